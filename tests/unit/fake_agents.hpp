// A scripted fake of the runner's Agents seam: agents that answer as real ones do (a
// partition is armed, then started, healed at its deadline and recovered a little later, each
// as the event a real agent sends), unless told to refuse, to stay silent about the heal, or to
// be lost; and a clock that moves only when the runner waits, so a run of seconds takes
// microseconds and nothing depends on the machine's speed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/proto/fault_codec.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"
#include "controller/run/agents.hpp"

namespace ticksplit::test {

class FakeAgents final : public ctl::Agents {
 public:
  std::int64_t now = 1'700'000'000'000'000;
  std::vector<std::pair<std::string, ei::Term>> calls;  // every request, in order
  int rounds = 0;                                       // call_all calls
  std::set<std::string> refuse;                         // refuse partitions ({exempt, ...})
  std::set<std::string> silent;                         // arm, but never report the heal
  std::map<std::string, std::int64_t> lose_at;          // the connection breaks at this time
  std::set<std::string> unreachable;                    // no reply to any call
  std::map<std::string, std::int64_t> held;             // faults each holds, for status and heal
  std::int64_t dropped_per_fault = 2;                   // evidence each agent reports
  std::int64_t passed_per_lossy_fault = 3;              // ... and what a lossy fault let through
  std::int64_t recovery_after_us = 200'000;             // fault_recovered this long after the heal
  std::multimap<std::int64_t, ctl::AgentEvent> scheduled;

  ei::Pid self() override { return ei::Pid{"ctl@198.51.100.1", 1, 0, 1}; }

  std::map<std::string, Result<ei::Term>> call_all(const std::vector<std::pair<std::string, ei::Term>>& requests,
                                                   unsigned /*timeout_ms*/) override {
    std::map<std::string, Result<ei::Term>> replies;
    ++rounds;
    for (const auto& [agent, req] : requests) {
      calls.emplace_back(agent, req);
      if (unreachable.count(agent))
        replies.emplace(agent, Error{Domain::protocol, 0, "no reply within the call timeout"});
      else
        replies.emplace(agent, answer(agent, req));
    }
    return replies;
  }

  std::vector<ctl::AgentEvent> events(int wait_ms, int /*wake_fd*/) override {
    now += static_cast<std::int64_t>(wait_ms) * 1000;
    std::vector<ctl::AgentEvent> due;
    while (!scheduled.empty() && scheduled.begin()->first <= now) {
      due.push_back(scheduled.begin()->second);
      scheduled.erase(scheduled.begin());
    }
    return due;
  }

  std::vector<std::pair<std::string, std::string>> take_lost() override {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = lose_at.begin(); it != lose_at.end();)
      if (it->second <= now) {
        out.emplace_back(it->first, "closed by the peer");
        it = lose_at.erase(it);
      } else {
        ++it;
      }
    return out;
  }

  std::int64_t now_us() override { return now; }

  // A node event at `at`, as a watcher relays it through its agent.
  void nodedown(std::int64_t at, const std::string& agent, const std::string& observer, const std::string& peer,
                const std::string& node_type = "visible") {
    proto::Event e{0, "nodedown", at, {}};
    e.fields = {{"observer", ei::atom(observer)}, {"peer", ei::atom(peer)}, {"reason", ei::atom("net_tick_timeout")},
                {"node_type", ei::atom(node_type)}};
    scheduled.emplace(at, ctl::AgentEvent{agent, std::move(e)});
  }
  void nodeup(std::int64_t at, const std::string& agent, const std::string& observer, const std::string& peer) {
    proto::Event e{0, "nodeup", at, {}};
    e.fields = {{"observer", ei::atom(observer)}, {"peer", ei::atom(peer)}, {"node_type", ei::atom("visible")}};
    scheduled.emplace(at, ctl::AgentEvent{agent, std::move(e)});
  }
  // The agent's own link to its node, as node_joined / node_lost report it.
  void node_lost(std::int64_t at, const std::string& agent, const std::string& node) {
    scheduled.emplace(at, ctl::AgentEvent{agent, {0, "node_lost", at, {{"node", ei::atom(node)},
                                                                        {"reason", ei::binary("connection closed")}}}});
  }

  // Every request of a kind that reached an agent, in order.
  template <class R>
  std::vector<std::pair<std::string, R>> requests() const {
    std::vector<std::pair<std::string, R>> out;
    for (const auto& [agent, t] : calls) {
      auto parsed = proto::parse_request(t);
      if (const auto* r = std::get_if<proto::Request>(&parsed))
        if (const auto* x = std::get_if<R>(r)) out.emplace_back(agent, *x);
    }
    return out;
  }

 private:
  Result<ei::Term> answer(const std::string& agent, const ei::Term& req) {
    auto parsed = proto::parse_request(req);
    const auto* r = std::get_if<proto::Request>(&parsed);
    if (r == nullptr) return ei::error_tuple(std::get<proto::Rejected>(parsed).reason);
    if (const auto* p = std::get_if<proto::PartitionRequest>(r)) return partition(agent, *p);
    if (const auto* p = std::get_if<proto::PauseRequest>(r)) return pause(agent, *p);
    if (const auto* k = std::get_if<proto::KillNodeRequest>(r)) return kill_node(agent, *k);
    if (const auto* k = std::get_if<proto::KillProcessRequest>(r)) return kill_process(agent, *k);
    if (const auto* p = std::get_if<proto::StressRequest>(r)) return stress(agent, *p);
    if (std::holds_alternative<proto::HealAllRequest>(*r)) return ei::ok_tuple(std::exchange(held[agent], 0));
    if (std::holds_alternative<proto::StatusRequest>(*r)) {
      proto::AgentStatus s;
      s.agent = agent;
      s.nodes = {{"app@" + agent.substr(agent.find('@') + 1), true}};
      s.net_ticktime_ms = 2000;
      s.tick_intensity = 4;
      s.backend = "fake";
      s.version = "0";
      for (std::int64_t i = 0; i < held[agent]; ++i) s.faults.push_back(ei::binary("f" + std::to_string(i)));
      return proto::status_reply(s);
    }
    return ei::atom("ok");  // subscribe, unsubscribe, heal
  }

  // A pause as a guard would do it: stopped 200 µs after the start, resumed 300 µs after the end.
  ei::Term pause(const std::string& agent, const proto::PauseRequest& p) {
    if (refuse.count(agent))
      return ei::error_tuple(proto::to_term(proto::Refusal{proto::Refusal::Kind::node_not_joined, p.node, {}, 0, 0}));
    const std::int64_t start = p.start_at_us.value_or(now), end = start + p.duration_ms * 1000;
    const auto emit = [&](std::int64_t at, proto::FaultEvent e) {
      scheduled.emplace(at, ctl::AgentEvent{agent, proto::to_event({at, std::move(e)})});
    };
    emit(start + 200, proto::PauseStarted{*p.id, p.node, 4242, "ctl@198.51.100.1", start + 200, start + 250, end});
    if (silent.count(agent)) return ei::ok_tuple(ei::binary(*p.id));
    emit(end + 300, proto::PauseEnded{*p.id, p.node, proto::HealReason::deadline, true, start + 200, end + 300, end, ""});
    return ei::ok_tuple(ei::binary(*p.id));
  }

  // A kill as a guard would do it: killed 300 µs after the start, exited 10 ms later, started
  // again 400 µs after the planned restart, and the agent joins the new node 2 s after that.
  ei::Term kill_node(const std::string& agent, const proto::KillNodeRequest& k) {
    const std::int64_t start = k.start_at_us.value_or(now), killed = start + 300, exited = killed + 10'000;
    const auto emit = [&](std::int64_t at, proto::FaultEvent e) {
      scheduled.emplace(at, ctl::AgentEvent{agent, proto::to_event({at, std::move(e)})});
    };
    const auto planned = k.restart_after_ms ? std::optional(start + *k.restart_after_ms * 1000) : std::nullopt;
    emit(exited, proto::NodeKilled{*k.id, k.node, 4242, "ctl@198.51.100.1", killed, exited, planned});
    const auto started = planned ? std::optional(*planned + 400) : std::nullopt;
    const auto ended = started.value_or(exited);
    emit(ended, proto::KillEnded{*k.id, k.node, proto::HealReason::deadline, true, killed, exited, planned, started,
                                 started ? std::optional<std::int64_t>(5151) : std::nullopt, ""});
    if (started)
      scheduled.emplace(*started + 2'000'000,
                        ctl::AgentEvent{agent, {0, "node_joined", *started + 2'000'000, {{"node", ei::atom(k.node)}}}});
    return ei::ok_tuple(ei::binary(*k.id));
  }

  // A kill as a watcher would do it: killed 400 µs after the instant, restarted 2 ms later
  // (a target named "nobody": not killed, an error); reported at the window's end.
  ei::Term kill_process(const std::string& agent, const proto::KillProcessRequest& k) {
    if (refuse.count(agent))
      return ei::error_tuple(proto::to_term(proto::Refusal{proto::Refusal::Kind::node_not_joined, k.node, {}, 0, 0}));
    const std::int64_t start = k.start_at_us.value_or(now), end = start + k.restart_window_ms * 1000;
    proto::ProcessKilled e{*k.id, k.node, "ctl@198.51.100.1", k.target, {}, "<0.90.0>", start, start + 400,
                           k.restart_window_ms, true, "<0.95.0>", start + 2400, ""};
    if (k.target.kind == proto::ProcessTarget::Kind::child_of) e.child_id = "worker";
    if (k.target.name == "nobody") {
      e.pid = e.new_pid = std::nullopt;
      e.killed_us = e.restarted_us = std::nullopt;
      e.restarted = false;
      e.error = "no process is registered as nobody";
    }
    if (!silent.count(agent)) scheduled.emplace(end + 100, ctl::AgentEvent{agent, proto::to_event({end + 100, e})});
    return ei::ok_tuple(ei::binary(*k.id));
  }

  // A stress as a node would report it: hogs started 100 µs after the start, the last gone
  // 400 µs after the end, the report 500 ms later.
  ei::Term stress(const std::string& agent, const proto::StressRequest& p) {
    if (refuse.count(agent))
      return ei::error_tuple(proto::to_term(proto::Refusal{proto::Refusal::Kind::already_stressed, p.node, {}, 0, 0}));
    const std::int64_t start = p.start_at_us.value_or(now), end = start + p.duration_ms * 1000;
    const auto emit = [&](std::int64_t at, proto::FaultEvent e) {
      scheduled.emplace(at, ctl::AgentEvent{agent, proto::to_event({at, std::move(e)})});
    };
    emit(start + 100, proto::StressStarted{*p.id, p.node, "ctl@198.51.100.1", start + 100, end, p.hogs, 2 * p.hogs});
    if (silent.count(agent)) return ei::ok_tuple(ei::binary(*p.id));
    proto::StressEnded e;
    e.id = *p.id;
    e.node = p.node;
    e.started = true;
    e.started_us = start + 100;
    e.ended_us = end + 400;
    e.planned_end_us = end;
    e.hogs = p.hogs;
    e.processes = 2 * p.hogs;
    e.utilisation_before = 0.01;
    e.utilisation_during = 0.995;
    e.utilisation_after = 0.02;
    e.normal_late_max_ms = p.duration_ms * 1.0;
    e.rtt_before = {0.5, 0.9, 3, 0};
    e.rtt_during = {16.0, 24.5, 19, 0};
    emit(end + 500'000, e);
    return ei::ok_tuple(ei::binary(*p.id));
  }

  ei::Term partition(const std::string& agent, const proto::PartitionRequest& p) {
    if (refuse.count(agent))
      return ei::error_tuple(proto::to_term(proto::Refusal{proto::Refusal::Kind::exempt, "198.51.100.1", {}, 0, 0}));
    std::vector<std::string> peers;
    for (const auto& x : p.peers) peers.push_back(x.text);
    const std::int64_t start = p.start_at_us.value_or(now), end = start + p.duration_ms * 1000;
    const auto emit = [&](std::int64_t at, proto::FaultEvent e) {
      scheduled.emplace(at, ctl::AgentEvent{agent, proto::to_event({at, std::move(e)})});
    };
    emit(start, proto::FaultStarted{*p.id, peers, {}, p.direction, "ctl@198.51.100.1", start, end, p.loss});
    if (silent.count(agent)) return ei::ok_tuple(ei::binary(*p.id));
    emit(end, proto::FaultHealed{*p.id, peers, proto::HealReason::deadline, true, start, end,
                                 proto::Evidence{dropped_per_fault, dropped_per_fault * 60, start + 1000, end - 1000,
                                                 p.loss.total() ? 0 : passed_per_lossy_fault}});
    emit(end + recovery_after_us, proto::FaultRecovered{*p.id, peers, true, end + recovery_after_us - start, {}, 1});
    return ei::ok_tuple(ei::binary(*p.id));
  }
};

}  // namespace ticksplit::test
