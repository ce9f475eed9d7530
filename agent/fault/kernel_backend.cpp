#include "agent/fault/kernel_backend.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <memory>

#include "agent/bpf/program.hpp"
#include "agent/bpf/syscall.hpp"
#include "agent/tc/clsact.hpp"

namespace ticksplit::agent::fault {

namespace {

std::uint64_t ns_of(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

Fd must(Result<Fd> r, const std::string& what, const char* hint) {
  if (!r) throw ConfigError(what + ": " + r.error().message + hint);
  return std::move(r).value();
}

void must(const Status& s) {
  if (!s) throw ConfigError(s.error().message);
}

// Every interface name that is up, except loopback.
std::vector<std::string> default_interfaces() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, freeifaddrs);
  for (const auto* i = list; i != nullptr; i = i->ifa_next) {
    if ((i->ifa_flags & IFF_LOOPBACK) != 0 || (i->ifa_flags & IFF_UP) == 0) continue;
    if (std::find(out.begin(), out.end(), i->ifa_name) == out.end()) out.emplace_back(i->ifa_name);
  }
  return out;
}

}  // namespace

KernelBackend::KernelBackend(const std::vector<std::string>& interfaces) {
  constexpr const char* kPrivilege = " (the agent needs root, or CAP_BPF and CAP_NET_ADMIN)";
  map_ =
      must(bpf::create_hash_map(sizeof(bpf::DropKey), sizeof(bpf::DropValue), bpf::drop_map_capacity, "ticksplit_drop"),
           "cannot create the BPF drop map", kPrivilege);
  ingress_ = must(bpf::load_classifier(bpf::drop_program(bpf::Hook::ingress, map_.get()), "ticksplit_in"),
                  "cannot load the ingress drop program", kPrivilege);
  egress_ = must(bpf::load_classifier(bpf::drop_program(bpf::Hook::egress, map_.get()), "ticksplit_out"),
                 "cannot load the egress drop program", kPrivilege);
  const auto names = interfaces.empty() ? default_interfaces() : interfaces;
  if (names.empty())
    throw ConfigError("no interface to enforce partitions on: none is up besides loopback (see --interface)");
  try {
    for (const auto& name : names) {
      Attached a;
      a.name = name;
      a.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
      if (a.ifindex == 0) throw ConfigError("--interface " + name + ": no such interface");
      attach(a);
      attached_.push_back(a);
    }
  } catch (...) {
    for (const auto& a : attached_) detach(a);
    throw;
  }
}

// What a killed agent left on the interface goes first (it would drop with a map nobody
// updates); its clsact becomes ours if nothing else uses it.
void KernelBackend::attach(Attached& a) {
  auto left_in = tc::detach_filter(nl_, a.ifindex, bpf::Hook::ingress);
  auto left_out = tc::detach_filter(nl_, a.ifindex, bpf::Hook::egress);
  if (!left_in) throw ConfigError(left_in.error().message);
  if (!left_out) throw ConfigError(left_out.error().message);
  auto created = tc::add_clsact(nl_, a.ifindex);
  if (!created) throw ConfigError(created.error().message + " on " + a.name);
  a.own_clsact = *created;
  if (*left_in || *left_out) {
    auto others_in = tc::count_filters(nl_, a.ifindex, bpf::Hook::ingress);
    auto others_out = tc::count_filters(nl_, a.ifindex, bpf::Hook::egress);
    a.own_clsact = others_in && others_out && *others_in == 0 && *others_out == 0;
    spdlog::warn("removed drop filters an earlier agent left on {}{}", a.name,
                 a.own_clsact ? "; its clsact qdisc goes when we do" : "");
  }
  try {
    must(tc::attach_filter(nl_, a.ifindex, bpf::Hook::ingress, ingress_.get()));
    must(tc::attach_filter(nl_, a.ifindex, bpf::Hook::egress, egress_.get()));
  } catch (...) {
    detach(a);
    throw;
  }
  spdlog::info("drop filters attached on {} (clsact {})", a.name, a.own_clsact ? "created" : "already there");
}

void KernelBackend::detach(const Attached& a) {
  for (auto hook : {bpf::Hook::ingress, bpf::Hook::egress})
    if (auto s = tc::detach_filter(nl_, a.ifindex, hook); !s) spdlog::error("{}", s.error().message);
  if (a.own_clsact)
    if (auto s = tc::remove_clsact(nl_, a.ifindex); !s) spdlog::error("{}", s.error().message);
}

KernelBackend::~KernelBackend() {
  for (const auto& a : attached_) detach(a);
  if (!attached_.empty()) spdlog::info("drop filters removed from {} interface(s)", attached_.size());
}

Clocks KernelBackend::now() {
  // bpf_ktime_get_ns() reads CLOCK_MONOTONIC; sample it between two realtime readings so
  // the pair is as close to one instant as two syscalls allow.
  const auto before = ns_of(CLOCK_REALTIME);
  const auto mono = ns_of(CLOCK_MONOTONIC);
  const auto after = ns_of(CLOCK_REALTIME);
  return {static_cast<std::int64_t>((before + (after - before) / 2) / 1000), mono};
}

Status KernelBackend::write(const bpf::DropKey& key, const bpf::DropValue& value) {
  return bpf::map_update(map_.get(), &key, &value);
}

Result<std::optional<bpf::DropValue>> KernelBackend::read(const bpf::DropKey& key) {
  bpf::DropValue v{};
  auto found = bpf::map_lookup(map_.get(), &key, &v);
  if (!found) return found.error();
  return *found ? std::optional(v) : std::nullopt;
}

Status KernelBackend::erase(const bpf::DropKey& key) { return bpf::map_delete(map_.get(), &key); }

}  // namespace ticksplit::agent::fault
