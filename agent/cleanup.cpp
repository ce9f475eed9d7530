#include "agent/cleanup.hpp"

#include <net/if.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "agent/instance_lock.hpp"
#include "agent/ledger.hpp"
#include "agent/pause/left.hpp"
#include "agent/privileges.hpp"
#include "agent/tc/clsact.hpp"
#include "common/error.hpp"

namespace ticksplit::agent {
namespace {

struct Link {
  int ifindex = 0;
  std::string name;
};

// Every link of this namespace, up or down, loopback included: a killed agent may have been
// told --interface lo, and a link may have gone down since.
std::vector<Link> all_links() {
  std::vector<Link> out;
  std::unique_ptr<struct if_nameindex, decltype(&if_freenameindex)> list(::if_nameindex(), if_freenameindex);
  if (!list) throw ConfigError(system_error("listing the interfaces (if_nameindex)", errno).message);
  for (const struct if_nameindex* i = list.get(); i->if_index != 0; ++i)
    out.push_back({static_cast<int>(i->if_index), i->if_name});
  return out;
}

struct Tally {
  int filters = 0;
  int qdiscs = 0;
  int failures = 0;
};

void clean(tc::Netlink& nl, const Link& link, Tally& tally, std::ostream& out, std::ostream& err) {
  bool ours = false;
  for (const auto hook : {bpf::Hook::ingress, bpf::Hook::egress}) {
    const char* hook_name = hook == bpf::Hook::ingress ? "ingress" : "egress";
    auto removed = tc::detach_filter(nl, link.ifindex, hook);
    if (!removed) {
      err << "ticksplit-agent: " << removed.error().message << " (" << link.name << ")\n";
      ++tally.failures;
    } else if (*removed) {
      out << "removed filter " << hook_name << " " << link.name << "\n";
      ++tally.filters;
      ours = true;
    }
  }
  // A clsact qdisc that held none of our filters is not ours to judge.
  if (!ours) return;
  int others = 0;
  for (const auto hook : {bpf::Hook::ingress, bpf::Hook::egress}) {
    auto n = tc::count_filters(nl, link.ifindex, hook);
    if (!n) {
      err << "ticksplit-agent: " << n.error().message << " (" << link.name << "); leaving its clsact qdisc\n";
      ++tally.failures;
      return;
    }
    others += *n;
  }
  if (others > 0) {
    out << "left clsact qdisc " << link.name << ": " << others << " other filter" << (others == 1 ? "" : "s") << "\n";
    return;
  }
  if (auto s = tc::remove_clsact(nl, link.ifindex); !s) {
    err << "ticksplit-agent: " << s.error().message << " (" << link.name << ")\n";
    ++tally.failures;
    return;
  }
  out << "removed clsact qdisc " << link.name << "\n";
  ++tally.qdiscs;
}

// The pauses the named agent's ledger lists. Returns the failures (a ledger it cannot read).
int end_left_pauses(const Options& o, std::ostream& out, std::ostream& err) {
  if (o.name.empty() || o.state_dir.empty()) return 0;
  Ledger ledger(o.state_dir + "/" + o.name + ".faults.json");
  if (::access(ledger.path().c_str(), F_OK) != 0) return 0;  // that agent left none (or exited cleanly)
  // Locked as an agent locks it: a live agent of that name elsewhere (another namespace sharing
  // the directory) owns its pauses.
  if (auto locked = ledger.lock(); !locked) {
    err << "ticksplit-agent: " << locked.error().message << "; the pauses it lists are not checked\n";
    return 1;
  }
  auto left = ledger.read();
  if (!left) {
    err << "ticksplit-agent: " << left.error().message << "; the pauses it lists are not checked\n";
    return 1;
  }
  for (const auto& p : *left) {
    if (!p.paused) continue;
    const auto ended = pause::end_left_pause(*p.paused);
    if (ended.guard_ended) out << "ended pause guard " << p.paused->guard_pid << " of " << p.paused->node << "\n";
    if (ended.resumed) out << "resumed " << p.paused->node << " (pid " << p.paused->pid << "), left paused\n";
  }
  return 0;
}

}  // namespace

int run_cleanup(const Options& o, std::ostream& out, std::ostream& err) {
  const auto& interfaces = o.interfaces;
  // Netlink would say EPERM for each request; one message naming the capability says it better.
  if (auto caps = privileges::current(); !caps || (caps->effective & privileges::cap(privileges::cap_net_admin)) == 0)
    throw ConfigError("--cleanup needs CAP_NET_ADMIN (or root) to remove tc filters; it is missing");
  // Held until we are done: no agent starts and attaches meanwhile, and a live one's filters are
  // not ours to remove (its SIGTERM removes them).
  std::unique_ptr<InstanceLock> lock;
  try {
    lock = std::make_unique<InstanceLock>();
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--cleanup refused, nothing removed: ") + e.what());
  }
  std::vector<Link> links;
  if (interfaces.empty()) {
    links = all_links();
  } else {
    for (const auto& name : interfaces) {
      const auto index = if_nametoindex(name.c_str());
      if (index == 0) {
        out << "skipped " << name << ": no such interface\n";
        continue;
      }
      links.push_back({static_cast<int>(index), name});
    }
  }
  tc::Netlink nl;
  Tally tally;
  for (const auto& link : links) clean(nl, link, tally, out, err);
  if (tally.filters == 0 && tally.failures == 0) {
    out << "nothing to remove: no ticksplit filter on " << links.size() << " interface(s)\n";
  } else {
    out << "removed " << tally.filters << " filter(s) and " << tally.qdiscs << " clsact qdisc(s) on " << links.size()
        << " interface(s)";
    if (tally.failures > 0) out << "; " << tally.failures << " removal(s) failed";
    out << "\n";
  }
  tally.failures += end_left_pauses(o, out, err);
  return tally.failures == 0 ? 0 : 1;
}

}  // namespace ticksplit::agent
