#include "controller/runner.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

#include "common/clock.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::ctl {

using nlohmann::json;

namespace {

constexpr unsigned kCallTimeoutMs = 2000;
constexpr std::int64_t kReorderUs = 1'000'000;  // how late an event may reach us

std::string text(const ei::Term& t) {
  if (const auto* a = t.as<ei::Atom>()) return a->name;
  if (const auto* b = t.as<ei::Binary>()) return b->bytes;
  return ei::to_string(t);
}

json grudge_json(const Grudge& g) {
  json j = json::object();
  for (const auto& [node, drops] : g) j[node] = std::vector<std::string>(drops.begin(), drops.end());
  return j;
}

bool cut_between(const Grudge& g, const std::string& a, const std::string& b) {
  const auto has = [&](const std::string& x, const std::string& y) {
    auto it = g.find(x);
    return it != g.end() && it->second.count(y) > 0;
  };
  return has(a, b) || has(b, a);
}

// A signal read from the signalfd, or 0.
int pending_signal(int fd) {
  if (fd < 0) return 0;
  signalfd_siginfo si{};
  if (::read(fd, &si, sizeof si) == sizeof si) return static_cast<int>(si.ssi_signo);
  return 0;
}

class Runner {
 public:
  Runner(AgentClient& c, const ClusterInfo& cl, std::uint64_t seed, History& h, int sfd)
      : client_(c), cluster_(cl), seed_(seed), history_(h), signal_fd_(sfd) {
    run_id_ = std::to_string(clock::unix_us() / 1000);
  }

  RunResult run(const std::vector<PlannedStep>& plan) {
    std::vector<std::string> agents;
    for (const auto& [node, agent] : cluster_.agent_of)
      if (std::find(agents.begin(), agents.end(), agent) == agents.end()) agents.push_back(agent);
    agents_ = agents;
    const auto w = cluster_.window();
    history_.add({{"time_us", clock::unix_us()},
                  {"kind", "run_start"},
                  {"seed", seed_},
                  {"agents", agents_},
                  {"nodes", cluster_.nodes},
                  {"net_ticktime_ms", cluster_.net_ticktime_ms},
                  {"tick_intensity", cluster_.tick_intensity},
                  {"window_ms", {w.min_ms, w.max_ms}}});
    std::vector<std::pair<std::string, ei::Term>> subs;
    for (const auto& a : agents_) subs.emplace_back(a, ei::tuple({ei::atom("subscribe"), client_.self()}));
    for (auto& [agent, r] : client_.call_all(subs, kCallTimeoutMs))
      if (!r || !r->is_atom("ok")) return fail(agent, r ? ei::to_string(*r) : r.error().message);
    for (const auto& step : plan) {
      if (const auto* wait = std::get_if<PlannedWait>(&step)) {
        if (!follow_until(clock::unix_us() + wait->ms * 1000)) return stopped();
      } else if (!fault(std::get<PlannedFault>(step))) {
        return stopped();
      }
    }
    history_.add({{"time_us", clock::unix_us()}, {"kind", "run_end"}, {"faults", result_.faults.size()}});
    history_.flush_all();
    return std::move(result_);
  }

 private:
  struct Part {  // one agent's request of the fault
    std::string agent;
    std::vector<std::string> nodes;  // the nodes it serves that drop
    bool healed = false, recovered = false;
    json evidence = json::object();
  };

  bool fault(const PlannedFault& f) {
    FaultOutcome out;
    out.fault = f;
    out.id = run_id_ + "-" + std::to_string(f.number);
    const auto decided = clock::Monotonic::now();
    out.start_us = clock::unix_us() + start_lead_ms * 1000;
    out.end_us = out.start_us + f.duration_ms * 1000;
    // One request per agent (the plan merged the nodes each serves), all sent before any
    // reply is awaited, with one start.
    std::vector<std::pair<std::string, ei::Term>> reqs;
    parts_.clear();
    for (std::size_t k = 0; k < f.drops.size(); ++k) {
      const auto& d = f.drops[k];
      proto::PartitionRequest r;
      for (const auto& p : d.peers) r.peers.push_back({p, true});
      r.duration_ms = f.duration_ms;
      r.start_at_us = out.start_us;
      r.id = out.id + "." + std::to_string(k + 1);
      parts_[*r.id] = Part{d.agent, d.nodes};
      reqs.emplace_back(d.agent, proto::to_term(proto::Request{r}));
    }
    std::map<std::string, std::string> failed;
    for (auto& [agent, r] : client_.call_all(reqs, kCallTimeoutMs)) {
      const auto* ok = r ? r->tuple_of(2) : nullptr;
      if (ok == nullptr || !(*ok)[0].is_atom("ok")) failed[agent] = r ? ei::to_string(*r) : r.error().message;
    }
    out.arm_ms = std::chrono::duration<double, std::milli>(clock::Monotonic::now() - decided).count();
    json start{{"time_us", out.start_us},
               {"kind", "fault_start"},
               {"fault", out.id},
               {"number", f.number},
               {"shape", f.shape},
               {"drop_sets", grudge_json(f.grudge)},
               {"requested_ms", f.duration_ms},
               {"requested", f.requested},
               {"window_class", window_class_name(f.window_class)},
               {"arm_ms", out.arm_ms}};
    if (!f.groups.empty()) start["groups"] = f.groups;
    history_.add(start);
    if (!failed.empty()) {
      heal_parts();  // this fault's own ids only: other owners' faults on those agents stay
      history_.add({{"time_us", clock::unix_us()}, {"kind", "fault_end"}, {"fault", out.id}, {"landed", false}});
      result_.faults.push_back(out);
      std::string why;
      for (const auto& [a, m] : failed) why += (why.empty() ? "" : "; ") + a + ": " + m;
      fail_message_ = "fault " + std::to_string(f.number) + " did not land: " + why;
      result_.exit_code = 1;
      return false;
    }
    current_ = &out;
    last_heal_us_ = 0;
    // Until every part is healed and recovered (the agents bound recovery by 2T).
    const std::int64_t limit = out.end_us + 2 * cluster_.net_ticktime_ms * 1000 + 2'000'000;
    const bool ok = follow_until(limit, [&] {
      return std::all_of(parts_.begin(), parts_.end(), [](auto& p) { return p.second.healed && p.second.recovered; });
    });
    current_ = nullptr;
    // An agent that never reported the heal is not answering: the run cannot go on.
    std::string silent;
    for (const auto& [id, p] : parts_)
      if (!p.healed && silent.find(p.agent) == std::string::npos) silent += (silent.empty() ? "" : ", ") + p.agent;
    const bool healed_everywhere = !ok || silent.empty();
    if (!healed_everywhere) {
      fail_message_ = "no fault_healed from agent(s) " + silent + " for fault " + std::to_string(f.number) +
                      "; the others are healed";
      result_.exit_code = 1;
      heal_parts();
    }
    json per_agent = json::object();
    for (auto& [id, p] : parts_) {
      per_agent[p.agent] = p.evidence;
      out.dropped_packets += p.evidence.value("dropped_packets", std::int64_t{0});
      if (p.evidence.contains("effective_outage_us") && p.evidence["effective_outage_us"].is_number())
        out.effective_outage_us =
            std::max(out.effective_outage_us, p.evidence["effective_outage_us"].get<std::int64_t>());
    }
    // when the last agent reported the heal (a stopped run: now)
    const std::int64_t ended = !ok || !healed_everywhere ? clock::unix_us()
                               : last_heal_us_ > 0       ? last_heal_us_
                                                         : out.end_us;
    json end{{"time_us", ended},
             {"kind", "fault_end"},
             {"fault", out.id},
             {"dropped_packets", out.dropped_packets},
             {"effective_outage_us", out.effective_outage_us < 0 ? json(nullptr) : json(out.effective_outage_us)},
             {"agents", per_agent}};
    if (!ok || !healed_everywhere) end["stopped"] = fail_message_;
    history_.add(end);
    result_.faults.push_back(std::move(out));
    return ok && healed_everywhere;
  }

  // Follows events until the time (unix µs) or until done() holds; false on a signal or a
  // lost agent (the run must stop).
  bool follow_until(std::int64_t until_us, const std::function<bool()>& done = {}) {
    while (true) {
      if (const int sig = pending_signal(signal_fd_)) return interrupted(sig);
      for (auto& [agent, why] : client_.take_lost()) {
        fail_message_ = "lost the connection to agent " + agent + ": " + why;
        result_.exit_code = 1;
        heal_parts();
        return false;
      }
      const auto now = clock::unix_us();
      history_.flush_before(now - kReorderUs);
      if (done && done()) return true;
      if (now >= until_us) return true;
      const int wait_ms = static_cast<int>(std::min<std::int64_t>(50, (until_us - now) / 1000 + 1));
      for (auto& e : client_.events(wait_ms, signal_fd_)) on_event(e);
    }
  }

  void on_event(const AgentEvent& ae) {
    const auto& e = ae.event;
    if (e.type == "nodeup" || e.type == "nodedown") {
      json j{{"time_us", e.time_us}, {"kind", e.type}, {"agent", ae.agent}};
      for (const char* f : {"observer", "peer", "reason"})
        if (const auto* t = e.field(f)) j[f] = text(*t);
      history_.add(j);
      if (e.type == "nodedown" && current_ != nullptr) {
        NodeDown d;
        d.observer = j.value("observer", "");
        d.peer = j.value("peer", "");
        d.reason = j.value("reason", "");
        d.after_us = e.time_us - current_->start_us;
        d.cascade = !cut_between(current_->fault.grudge, d.observer, d.peer);
        current_->nodedowns.push_back(d);
      }
      return;
    }
    auto typed = proto::fault_event_from(e);  // read in one place: common/proto/fault_codec
    if (!typed) return;                        // not a fault event (a malformed one is ignored)
    auto it = parts_.find(proto::fault_id(*typed));
    if (it == parts_.end()) return;
    auto& p = it->second;
    const auto maybe = [](const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); };
    if (const auto* h = std::get_if<proto::FaultHealed>(&*typed)) {
      p.healed = true;
      last_heal_us_ = std::max(last_heal_us_, e.time_us);
      p.evidence["dropped_packets"] = h->evidence.dropped_packets;
      p.evidence["dropped_bytes"] = h->evidence.dropped_bytes;
      p.evidence["first_drop_us"] = maybe(h->evidence.first_drop_us);
      p.evidence["last_drop_us"] = maybe(h->evidence.last_drop_us);
      p.evidence["reason"] = proto::heal_reason_name(h->reason);
      p.evidence["nodes"] = p.nodes;
    } else if (const auto* r = std::get_if<proto::FaultRecovered>(&*typed)) {
      p.recovered = true;
      p.evidence["effective_outage_us"] = maybe(r->effective_outage_us);
      p.evidence["recovered"] = r->recovered;
    }
  }

  // Heals the current (or last) fault's parts by id: the only faults this run owns (it arms
  // one at a time), and never another owner's on the same agent, as a bare `heal` would.
  // The library heals a failed arm the same way (ticksplit:split/2).
  void heal_parts() {
    std::vector<std::pair<std::string, ei::Term>> reqs;
    for (const auto& [id, p] : parts_) reqs.emplace_back(p.agent, proto::to_term(proto::Request{proto::HealRequest{id}}));
    for (auto& [agent, r] : client_.call_all(reqs, kCallTimeoutMs))
      if (!r) std::fprintf(stderr, "ticksplit-ctl: healing %s failed: %s\n", agent.c_str(), r.error().message.c_str());
  }



  bool interrupted(int sig) {
    heal_parts();  // the fault being followed, if any, writes its fault_end as it returns
    fail_message_ = std::string("interrupted by ") + strsignal(sig) + "; the current fault healed";
    result_.exit_code = 128 + sig;
    return false;
  }

  RunResult stopped() {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", fail_message_.c_str());
    history_.add({{"time_us", clock::unix_us()}, {"kind", "run_end"}, {"error", fail_message_}});
    history_.flush_all();
    return std::move(result_);
  }

  RunResult fail(const std::string& agent, const std::string& why) {
    fail_message_ = "agent " + agent + ": " + why;
    result_.exit_code = 1;
    heal_parts();
    return stopped();
  }

  AgentClient& client_;
  const ClusterInfo& cluster_;
  std::uint64_t seed_;
  History& history_;
  int signal_fd_;
  std::string run_id_;
  std::vector<std::string> agents_;
  std::map<std::string, Part> parts_;
  FaultOutcome* current_ = nullptr;
  std::int64_t last_heal_us_ = 0;
  std::string fail_message_;
  RunResult result_;
};

}  // namespace

Result<ClusterInfo> discover(AgentClient& client, const std::vector<std::string>& agents) {
  std::vector<std::pair<std::string, ei::Term>> reqs;
  for (const auto& a : agents) reqs.emplace_back(a, ei::atom("status"));
  ClusterInfo c;
  std::optional<std::pair<std::string, proto::AgentStatus>> first;
  for (auto& [agent, r] : client.call_all(reqs, kCallTimeoutMs)) {
    if (!r) return Error{Domain::protocol, 0, "agent " + agent + ": " + r.error().message};
    auto s = proto::parse_status_reply(*r);
    if (!s) return Error{Domain::protocol, 0, "agent " + agent + ": " + s.error().message};
    for (const auto& n : s->nodes) {
      if (!n.connected) return Error{Domain::protocol, 0, "agent " + agent + " has not joined its node " + n.node};
      c.nodes.push_back(n.node);
      c.agent_of[n.node] = agent;
    }
    if (!s->net_ticktime_ms || !s->tick_intensity)
      return Error{Domain::protocol, 0, "agent " + agent + " does not know its node's net_ticktime yet"};
    if (first &&
        (first->second.net_ticktime_ms != s->net_ticktime_ms || first->second.tick_intensity != s->tick_intensity))
      return Error{Domain::protocol, 0,
                   "the agents disagree on the tick: " + first->first + " reports net_ticktime " +
                       std::to_string(*first->second.net_ticktime_ms) + " ms, intensity " +
                       std::to_string(*first->second.tick_intensity) + "; " + agent + " reports " +
                       std::to_string(*s->net_ticktime_ms) + " ms, intensity " + std::to_string(*s->tick_intensity)};
    if (!first) first.emplace(agent, *s);
  }
  c.net_ticktime_ms = *first->second.net_ticktime_ms;
  c.tick_intensity = *first->second.tick_intensity;
  std::sort(c.nodes.begin(), c.nodes.end());
  return c;
}

RunResult run_plan(AgentClient& client, const ClusterInfo& cluster, const std::vector<PlannedStep>& plan,
                   std::uint64_t seed, History& history, int signal_fd) {
  return Runner(client, cluster, seed, history, signal_fd).run(plan);
}

std::string summary(const std::vector<FaultOutcome>& faults, const ClusterInfo& cluster) {
  std::ostringstream os;
  const auto w = cluster.window();
  char line[512];
  std::snprintf(line, sizeof line, "net_ticktime %lld ms, detection window %lld-%lld ms\n",
                static_cast<long long>(cluster.net_ticktime_ms), static_cast<long long>(w.min_ms),
                static_cast<long long>(w.max_ms));
  os << line;
  std::snprintf(line, sizeof line, "%-4s %-16s %-16s %-12s %-10s %-8s %s\n", "#", "shape", "requested", "class",
                "outage", "dropped", "nodedown (observer <- peer, after window start)");
  os << line;
  for (const auto& f : faults) {
    char outage[32];
    if (f.effective_outage_us >= 0)
      std::snprintf(outage, sizeof outage, "%.3f s", static_cast<double>(f.effective_outage_us) / 1e6);
    else
      std::snprintf(outage, sizeof outage, "n/a");
    const std::string req = f.fault.requested + " = " + std::to_string(f.fault.duration_ms) + "ms";
    std::snprintf(line, sizeof line, "%-4d %-16s %-16s %-12s %-10s %-8lld ", f.fault.number, f.fault.shape.c_str(),
                  req.c_str(), window_class_name(f.fault.window_class), outage, static_cast<long long>(f.dropped_packets));
    os << line;
    if (f.nodedowns.empty()) os << "none";
    bool firstd = true;
    for (const auto& d : f.nodedowns) {
      char item[256];
      std::snprintf(item, sizeof item, "%s%s <- %s %.2f s (%s)%s", firstd ? "" : "; ", d.observer.c_str(),
                    d.peer.c_str(), static_cast<double>(d.after_us) / 1e6, d.reason.c_str(),
                    d.cascade ? " [cascade: link not cut]" : "");
      os << item;
      firstd = false;
    }
    os << "\n";
  }
  return os.str();
}

std::string describe_plan(const std::vector<PlannedStep>& plan, const ClusterInfo& cluster, std::uint64_t seed) {
  std::ostringstream os;
  const auto w = cluster.window();
  os << "seed " << seed << "; nodes:";
  for (const auto& n : cluster.nodes) os << " " << n;
  os << "\nnet_ticktime " << cluster.net_ticktime_ms << " ms, intensity " << cluster.tick_intensity
     << ", detection window " << w.min_ms << "-" << w.max_ms << " ms\n";
  for (const auto& step : plan) {
    if (const auto* wait = std::get_if<PlannedWait>(&step)) {
      os << "  wait " << wait->ms << " ms\n";
      continue;
    }
    const auto& f = std::get<PlannedFault>(step);
    os << "  fault " << f.number << " (line " << f.line << "): " << f.shape << ", " << f.duration_ms << " ms ("
       << f.requested << ", " << window_class_name(f.window_class) << ")\n";
    if (!f.groups.empty()) {
      os << "    groups:";
      for (const auto& g : f.groups) {
        os << " [";
        for (std::size_t i = 0; i < g.size(); ++i) os << (i ? " " : "") << g[i];
        os << "]";
      }
      os << "\n";
    }
    for (const auto& [node, drops] : f.grudge) {
      if (drops.empty()) continue;
      os << "    " << cluster.agent_of.at(node) << " drops at " << node << " what arrives from:";
      for (const auto& d : drops) os << " " << d;
      os << "\n";
    }
  }
  return os.str();
}

}  // namespace ticksplit::ctl
