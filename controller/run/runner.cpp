#include "controller/run/runner.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>

#include "common/clock.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"
#include "controller/report/stress_evidence.hpp"
#include "controller/report/summary.hpp"

namespace ticksplit::ctl {

using nlohmann::json;

namespace {

constexpr std::int64_t kReorderUs = 1'000'000;  // how late an event may reach us

std::string text(const ei::Term& t) {
  if (const auto* a = t.as<ei::Atom>()) return a->name;
  if (const auto* b = t.as<ei::Binary>()) return b->bytes;
  return ei::to_string(t);
}

json links_json(const std::vector<Link>& links) {
  json j = json::array();
  for (const auto& [a, b] : links) j.push_back({a, b});
  return j;
}

json grudge_json(const Grudge& g) {
  json j = json::object();
  for (const auto& [node, drops] : g) j[node] = std::vector<std::string>(drops.begin(), drops.end());
  return j;
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
  Runner(Agents& a, const ClusterInfo& cl, std::uint64_t seed, History& h, int sfd)
      : agents_(a), cluster_(cl), seed_(seed), history_(h), signal_fd_(sfd) {
    run_id_ = std::to_string(agents_.now_us() / 1000);
  }

  RunResult run(const std::vector<PlannedStep>& plan) {
    std::vector<std::string> agents;
    for (const auto& [node, agent] : cluster_.agent_of)
      if (std::find(agents.begin(), agents.end(), agent) == agents.end()) agents.push_back(agent);
    agent_names_ = agents;
    const auto w = cluster_.window();
    history_.add({{"time_us", agents_.now_us()},
                  {"kind", "run_start"},
                  {"seed", seed_},
                  {"agents", agent_names_},
                  {"nodes", cluster_.nodes},
                  {"net_ticktime_ms", cluster_.net_ticktime_ms},
                  {"tick_intensity", cluster_.tick_intensity},
                  {"window_ms", {w.min_ms, w.max_ms}}});
    std::vector<std::pair<std::string, ei::Term>> subs;
    for (const auto& a : agent_names_) subs.emplace_back(a, proto::to_term(proto::SubscribeRequest{agents_.self()}));
    for (auto& [agent, r] : agents_.call_all(subs, call_timeout_ms))
      if (!r || !r->is_atom("ok")) return fail(agent, r ? ei::to_string(*r) : r.error().message);
    for (const auto& step : plan) {
      if (const auto* wait = std::get_if<PlannedWait>(&step)) {
        if (!follow_until(agents_.now_us() + wait->ms * 1000)) return stopped();
      } else if (!fault(std::get<PlannedFault>(step))) {
        return stopped();
      }
    }
    end_following();
    history_.add({{"time_us", agents_.now_us()}, {"kind", "run_end"}, {"faults", result_.faults.size()}});
    history_.flush_all();
    return std::move(result_);
  }

 private:
  struct Part {  // one agent's request of the fault
    std::string agent;
    std::vector<std::string> nodes;  // the nodes it serves that drop
    bool refused = false;            // the agent said no: nothing of it is armed there
    bool healed = false, recovered = false;
    json evidence = json::object();
  };

  bool fault(const PlannedFault& f) {
    FaultOutcome out;
    out.fault = f;
    out.id = run_id_ + "-" + std::to_string(f.number);
    const auto decided = clock::Monotonic::now();
    out.start_us = agents_.now_us() + start_lead_ms * 1000;
    out.end_us = out.start_us + f.duration_ms * 1000;
    // One request per agent (the plan merged the nodes each serves), all sent before any
    // reply is awaited, with one start.
    std::vector<std::pair<std::string, ei::Term>> reqs;
    parts_.clear();
    // A fault on one node's process (a pause, a kill, a stress): one request, to that node's
    // agent, with the fault's start and the id of its one part.
    const auto to_node_agent = [&](auto r) {
      r.start_at_us = out.start_us;
      r.id = out.id + ".1";
      const auto& agent = cluster_.agent_of.at(r.node);
      parts_[*r.id] = Part{agent, {r.node}};
      reqs.emplace_back(agent, proto::to_term(proto::Request{std::move(r)}));
    };
    if (f.paused) to_node_agent(proto::PauseRequest{.node = *f.paused, .duration_ms = f.duration_ms});
    if (f.killed) to_node_agent(proto::KillNodeRequest{.node = *f.killed, .restart_after_ms = f.restart_after_ms});
    if (f.killed_on)  // the window is the restart watch
      to_node_agent(proto::KillProcessRequest{
          .node = *f.killed_on, .target = f.kill_target, .restart_window_ms = f.duration_ms});
    if (f.stressed)
      to_node_agent(proto::StressRequest{.node = *f.stressed, .duration_ms = f.duration_ms, .hogs = f.hogs});
    for (std::size_t k = 0; k < f.drops.size(); ++k) {
      const auto& d = f.drops[k];
      proto::PartitionRequest r;
      for (const auto& p : d.peers) r.peers.push_back({p, true});
      r.duration_ms = f.duration_ms;
      r.loss = f.loss;
      r.start_at_us = out.start_us;
      r.id = out.id + "." + std::to_string(k + 1);
      parts_[*r.id] = Part{d.agent, d.nodes};
      reqs.emplace_back(d.agent, proto::to_term(proto::Request{r}));
    }
    std::map<std::string, std::string> failed;
    for (auto& [agent, r] : agents_.call_all(reqs, call_timeout_ms)) {
      const auto* ok = r ? r->tuple_of(2) : nullptr;
      if (ok == nullptr || !(*ok)[0].is_atom("ok")) failed[agent] = r ? ei::to_string(*r) : r.error().message;
      // A refusal arms nothing there, and the id may be another owner's (duplicate_id): that
      // agent is not healed by this id. No reply at all may still have armed it: healed.
      if (ok != nullptr && (*ok)[0].is_atom("error"))
        for (auto& [id, p] : parts_)
          if (p.agent == agent) p.refused = true;
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
               {"loss", f.loss.probability()},
               {"arm_ms", out.arm_ms}};
    if (!f.groups.empty()) start["groups"] = f.groups;
    if (f.paused) start["node"] = *f.paused;
    if (f.call_class) {
      start["call_class"] = call_class_name(f.call_class->cls);
      start["call_timeout_ms"] = f.call_class->call_timeout_ms;
    }
    if (f.killed) {
      start["node"] = *f.killed;
      start["restart_after_ms"] = f.restart_after_ms ? json(*f.restart_after_ms) : json(nullptr);
    }
    if (f.killed_on) {
      start["node"] = *f.killed_on;
      start["target"] = proto::process_target_name(f.kill_target.kind);
      start[f.kill_target.kind == proto::ProcessTarget::Kind::name ? "name" : "supervisor"] = f.kill_target.name;
      start["restart_window_ms"] = f.duration_ms;
    }
    if (f.stressed) {
      start["node"] = *f.stressed;
      start["hogs"] = f.hogs;
    }
    // What the drops do to distribution's links (controller/plan/topology.hpp).
    start["effective_groups"] = f.topology.groups;
    start["links_cut"] = links_json(f.topology.cut);
    start["links_one_way"] = links_json(f.topology.one_way);
    start["links_up"] = links_json(f.topology.up);
    if (!f.warnings.empty()) start["warnings"] = f.warnings;
    history_.add(start);
    // Node events belong to this fault from its start until the next one starts.
    if (!result_.faults.empty()) result_.faults.back().followed_until_us = out.start_us;
    result_.faults.push_back(out);
    attributed_ = result_.faults.size() - 1;
    if (!failed.empty()) {
      heal_parts();  // this fault's own ids only: other owners' faults on those agents stay
      history_.add({{"time_us", agents_.now_us()}, {"kind", "fault_end"}, {"fault", out.id}, {"landed", false}});
      result_.faults.back().landed = false;
      std::string why;
      for (const auto& [a, m] : failed) why += (why.empty() ? "" : "; ") + a + ": " + m;
      fail_message_ = "fault " + std::to_string(f.number) + " did not land: " + why;
      result_.exit_code = 1;
      return false;
    }
    last_heal_us_ = 0;
    // Until every part is healed and recovered (the agents bound recovery by 2T).
    // A kill's report may come up to 5 s after its window (a slow which_children), or the
    // agent's own word that it never came (agent/process_kills.hpp).
    const std::int64_t limit = out.end_us + 2 * cluster_.net_ticktime_ms * 1000 + (f.killed_on ? 7'000'000 : 2'000'000);
    const bool ok = follow_until(limit, [&] {
      return std::all_of(parts_.begin(), parts_.end(), [](auto& p) { return p.second.healed && p.second.recovered; });
    });
    // An agent that never reported the heal is not answering: the run cannot go on.
    std::string silent;
    for (const auto& [id, p] : parts_)
      if (!p.healed && silent.find(p.agent) == std::string::npos) silent += (silent.empty() ? "" : ", ") + p.agent;
    const bool healed_everywhere = !ok || silent.empty();
    if (!healed_everywhere) {
      fail_message_ = std::string(f.killed_on ? "no process_killed" : "no fault_healed") + " from agent(s) " + silent +
                      " for fault " + std::to_string(f.number) + "; the others are healed";
      result_.exit_code = 1;
      heal_parts();
    }
    auto& outcome = result_.faults.back();
    json per_agent = json::object();
    for (auto& [id, p] : parts_) {
      per_agent[p.agent] = p.evidence;
      outcome.dropped_packets += p.evidence.value("dropped_packets", std::int64_t{0});
      outcome.passed_packets += p.evidence.value("passed_packets", std::int64_t{0});
      read_stress_evidence(p.evidence, outcome);
      if (p.evidence.contains("effective_outage_us") && p.evidence["effective_outage_us"].is_number())
        outcome.effective_outage_us =
            std::max(outcome.effective_outage_us, p.evidence["effective_outage_us"].get<std::int64_t>());
    }
    if (f.killed_on) outcome.killed = killed_;
    killed_.reset();
    // when the last agent reported the heal (a stopped run: now)
    const std::int64_t ended = !ok || !healed_everywhere ? agents_.now_us()
                               : last_heal_us_ > 0       ? last_heal_us_
                                                         : out.end_us;
    json end{{"time_us", ended},
             {"kind", "fault_end"},
             {"fault", out.id},
             {"dropped_packets", outcome.dropped_packets},
             {"passed_packets", outcome.passed_packets},
             {"loss_rate", outcome.loss_rate() ? json(*outcome.loss_rate()) : json(nullptr)},
             {"effective_outage_us",
              outcome.effective_outage_us < 0 ? json(nullptr) : json(outcome.effective_outage_us)},
             {"agents", per_agent}};
    if (!ok || !healed_everywhere) end["stopped"] = fail_message_;
    // Intended against observed, per link, as far as seen by the fault's end (reconnections
    // come later: the nodeup lines carry them, with after_heal_us).
    json links = json::array();
    for (const auto& l : link_reports(outcome)) {
      json x{{"link", {l.link.first, l.link.second}}, {"cut", l.cut}, {"one_way", l.one_way}};
      if (l.first_down)
        x.update({{"down_after_us", l.first_down->after_us},
                  {"observer", l.first_down->observer},
                  {"reason", l.first_down->reason},
                  {"after_window", l.first_down->after_window}});
      links.push_back(std::move(x));
    }
    end["links"] = std::move(links);
    history_.add(end);
    return ok && healed_everywhere;
  }

  // Follows events until the time (unix µs) or until done() holds; false on a signal or a
  // lost agent (the run must stop).
  bool follow_until(std::int64_t until_us, const std::function<bool()>& done = {}) {
    while (true) {
      if (const int sig = pending_signal(signal_fd_)) return interrupted(sig);
      for (auto& [agent, why] : agents_.take_lost()) {
        fail_message_ = "lost the connection to agent " + agent + ": " + why;
        result_.exit_code = 1;
        heal_parts();
        return false;
      }
      const auto now = agents_.now_us();
      history_.flush_before(now - kReorderUs);
      if (done && done()) return true;
      if (now >= until_us) return true;
      const int wait_ms = static_cast<int>(std::min<std::int64_t>(50, (until_us - now) / 1000 + 1));
      for (auto& e : agents_.events(wait_ms, signal_fd_)) on_event(e);
    }
  }

  void on_event(const AgentEvent& ae) {
    const auto& e = ae.event;
    if (e.type == "nodeup" || e.type == "nodedown") {
      json j{{"time_us", e.time_us}, {"kind", e.type}, {"agent", ae.agent}};
      for (const char* f : {"observer", "peer", "reason", "node_type"})
        if (const auto* t = e.field(f)) j[f] = text(*t);
      if (attributed_) attribute(j, e.time_us);
      history_.add(j);
      return;
    }
    if (e.type == "log") {  // a node's own log line, at the log event's time
      json j{{"time_us", e.time_us}, {"kind", "log"}, {"agent", ae.agent}};
      for (const char* f : {"node", "level", "message"})
        if (const auto* t = e.field(f)) j[f] = text(*t);
      if (const auto* d = e.field("dropped"); d != nullptr && d->as<std::int64_t>() != nullptr)
        j["dropped"] = *d->as<std::int64_t>();
      history_.add(j);
      return;
    }
    if (e.type == "node_joined" || e.type == "node_lost") {  // the agent's own link to its node
      json j{{"time_us", e.time_us}, {"kind", e.type}, {"agent", ae.agent}};
      if (e.type == "node_joined") node_up(ae.agent, e);
      for (const char* f : {"node", "reason", "net_ticktime_ms", "tick_intensity"})
        if (const auto* t = e.field(f)) j[f] = t->as<std::int64_t>() != nullptr ? json(*t->as<std::int64_t>()) : json(text(*t));
      history_.add(j);
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
      p.evidence["passed_packets"] = h->evidence.passed_packets;
      p.evidence["first_drop_us"] = maybe(h->evidence.first_drop_us);
      p.evidence["last_drop_us"] = maybe(h->evidence.last_drop_us);
      p.evidence["reason"] = proto::heal_reason_name(h->reason);
      p.evidence["nodes"] = p.nodes;
    } else if (const auto* r = std::get_if<proto::FaultRecovered>(&*typed)) {
      p.recovered = true;
      p.evidence["effective_outage_us"] = maybe(r->effective_outage_us);
      p.evidence["recovered"] = r->recovered;
    } else if (const auto* ps = std::get_if<proto::PauseStarted>(&*typed)) {
      p.evidence["os_pid"] = ps->os_pid;
      p.evidence["stopped_us"] = ps->stopped_us;
      p.evidence["confirmed_us"] = maybe(ps->confirmed_us);
    } else if (const auto* pe = std::get_if<proto::PauseEnded>(&*typed)) {
      // A pause has nothing to recover in the kernel: its end is the node running again.
      p.healed = p.recovered = true;
      last_heal_us_ = std::max(last_heal_us_, e.time_us);
      p.evidence["reason"] = proto::heal_reason_name(pe->reason);
      p.evidence["nodes"] = p.nodes;
      p.evidence["stopped_us"] = maybe(pe->stopped_us);
      p.evidence["resumed_us"] = maybe(pe->resumed_us);
      p.evidence["resume_late_us"] = pe->resumed_us ? json(*pe->resumed_us - pe->planned_end_us) : json(nullptr);
      // What distribution lost: the node stopped, from its stop to its resume.
      p.evidence["effective_outage_us"] =
          pe->stopped_us && pe->resumed_us ? json(*pe->resumed_us - *pe->stopped_us) : json(nullptr);
      if (!pe->error.empty()) p.evidence["error"] = pe->error;
    } else if (const auto* nk = std::get_if<proto::NodeKilled>(&*typed)) {
      p.evidence["os_pid"] = nk->os_pid;
      p.evidence["killed_us"] = nk->killed_us;
      p.evidence["down_us"] = nk->killed_us;
      p.evidence["exited_us"] = maybe(nk->exited_us);
    } else if (const auto* ke = std::get_if<proto::KillEnded>(&*typed)) {
      // The kill is over when its node is started again (or left to the host's supervisor);
      // with a restart it is recovered once its agent has joined the new node (node_up).
      p.healed = true;
      p.recovered = !ke->started_us.has_value();
      last_heal_us_ = std::max(last_heal_us_, e.time_us);
      p.evidence["reason"] = proto::heal_reason_name(ke->reason);
      p.evidence["nodes"] = p.nodes;
      p.evidence["killed"] = ke->killed;
      p.evidence["killed_us"] = maybe(ke->killed_us);
      p.evidence["down_us"] = maybe(ke->killed_us);
      p.evidence["exited_us"] = maybe(ke->exited_us);
      p.evidence["planned_restart_us"] = maybe(ke->planned_restart_us);
      p.evidence["started_us"] = maybe(ke->started_us);
      p.evidence["start_pid"] = maybe(ke->start_pid);
      p.evidence["restart_late_us"] = ke->started_us && ke->planned_restart_us
                                          ? json(*ke->started_us - *ke->planned_restart_us)
                                          : json(nullptr);
      if (!p.evidence.contains("up_us")) p.evidence["up_us"] = nullptr;
      if (!ke->error.empty()) p.evidence["error"] = ke->error;
    } else if (const auto* k = std::get_if<proto::ProcessKilled>(&*typed)) {
      // Over at once: the kill and the restart watch are done when it is reported.
      p.healed = p.recovered = true;
      last_heal_us_ = std::max(last_heal_us_, e.time_us);
      killed_ = *k;
      const auto text_or_null = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
      p.evidence["nodes"] = p.nodes;
      p.evidence["target"] = proto::process_target_name(k->target.kind);
      p.evidence[k->target.kind == proto::ProcessTarget::Kind::name ? "name" : "supervisor"] = k->target.name;
      if (!k->child_id.empty()) p.evidence["child_id"] = k->child_id;
      p.evidence["pid"] = text_or_null(k->pid);
      p.evidence["killed_us"] = maybe(k->killed_us);
      p.evidence["kill_late_us"] = k->killed_us ? json(*k->killed_us - k->planned_us) : json(nullptr);
      p.evidence["restart_window_ms"] = k->restart_window_ms;
      p.evidence["restarted"] = k->restarted;
      p.evidence["new_pid"] = text_or_null(k->new_pid);
      p.evidence["restarted_us"] = maybe(k->restarted_us);
      p.evidence["restart_after_us"] =
          k->restarted_us && k->killed_us ? json(*k->restarted_us - *k->killed_us) : json(nullptr);
      if (!k->error.empty()) p.evidence["error"] = k->error;
    } else if (const auto* ss = std::get_if<proto::StressStarted>(&*typed)) {
      p.evidence["started_us"] = ss->started_us;
      p.evidence["processes"] = ss->processes;
    } else if (const auto* se = std::get_if<proto::StressEnded>(&*typed)) {
      // A stress has nothing to recover in the kernel: its end is the node's report.
      p.healed = p.recovered = true;
      last_heal_us_ = std::max(last_heal_us_, e.time_us);
      const auto real = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
      const auto rtt = [&real](const proto::RoundTrips& r) {
        return json{{"median_ms", real(r.median_ms)}, {"max_ms", real(r.max_ms)}, {"count", r.count}, {"lost", r.lost}};
      };
      p.evidence["reason"] = proto::heal_reason_name(se->reason);
      p.evidence["nodes"] = p.nodes;
      p.evidence["started_us"] = maybe(se->started_us);
      p.evidence["ended_us"] = maybe(se->ended_us);
      p.evidence["end_late_us"] = se->ended_us ? json(*se->ended_us - se->planned_end_us) : json(nullptr);
      p.evidence["processes"] = se->processes;
      p.evidence["utilisation_before"] = real(se->utilisation_before);
      p.evidence["utilisation_during"] = real(se->utilisation_during);
      p.evidence["utilisation_after"] = real(se->utilisation_after);
      p.evidence["normal_late_max_ms"] = real(se->normal_late_max_ms);
      p.evidence["rtt_before_ms"] = rtt(se->rtt_before);
      p.evidence["rtt_during_ms"] = rtt(se->rtt_during);
      if (!se->error.empty()) p.evidence["error"] = se->error;
    }
  }

  // A killed node joined again by its agent after its restart: the kill's up time, and the
  // fault is over for the runner (recovered).
  void node_up(const std::string& agent, const proto::Event& e) {
    const auto* n = e.field("node");
    if (n == nullptr) return;
    for (auto& [id, p] : parts_)
      if (p.agent == agent && p.evidence.contains("killed") && p.evidence.contains("started_us") &&
          !p.evidence["started_us"].is_null() &&
          (!p.evidence.contains("up_us") || p.evidence["up_us"].is_null()) && std::find(p.nodes.begin(), p.nodes.end(), text(*n)) != p.nodes.end() &&
          e.time_us >= p.evidence["started_us"].get<std::int64_t>()) {
        p.recovered = true;
        p.evidence["up_us"] = e.time_us;
        if (p.evidence.contains("killed_us") && p.evidence["killed_us"].is_number())
          p.evidence["effective_outage_us"] = e.time_us - p.evidence["killed_us"].get<std::int64_t>();
      }
  }

  // A node event, to the fault it happened under (or after: a late nodedown, a reconnection).
  // The fault's number and what the event means for it are added to the line itself, so the
  // history says what the summary says. The fault is the last one started by the event's time
  // (an event of the 100 ms lead before a fault's start, or late through the reorder buffer,
  // still belongs to the one before).
  void attribute(json& j, std::int64_t time_us) {
    std::size_t k = *attributed_;
    while (k > 0 && result_.faults[k].start_us > time_us) --k;
    if (result_.faults[k].start_us > time_us) return;  // before the first fault
    auto& f = result_.faults[k];
    j["fault"] = f.fault.number;
    const std::string observer = j.value("observer", ""), peer = j.value("peer", ""), type = j.value("node_type", "");
    if (j["kind"] == "nodeup") {
      if (time_us >= f.end_us) {
        f.nodeups.push_back({observer, peer, type, time_us - f.end_us});
        j["after_heal_us"] = time_us - f.end_us;
      }
      return;
    }
    NodeDown d;
    d.observer = observer;
    d.peer = peer;
    d.reason = j.value("reason", "");
    d.node_type = type;
    d.after_us = time_us - f.start_us;
    d.hidden = type == "hidden";
    d.cascade = !d.hidden && !is_cut(f.fault.topology, observer, peer);
    d.after_window = time_us >= f.end_us;
    f.nodedowns.push_back(d);
    j["after_start_us"] = d.after_us;
    j["cascade"] = d.cascade;
    j["after_window"] = d.after_window;
  }

  // Heals the current (or last) fault's parts by id: the only faults this run owns (it arms
  // one at a time), and never another owner's on the same agent, as a bare `heal` would.
  // The library heals a failed arm the same way (ticksplit:split/2).
  void heal_parts() {
    std::vector<std::pair<std::string, ei::Term>> reqs;
    for (const auto& [id, p] : parts_)
      if (!p.refused) reqs.emplace_back(p.agent, proto::to_term(proto::Request{proto::HealRequest{id}}));
    for (auto& [agent, r] : agents_.call_all(reqs, call_timeout_ms))
      if (!r) std::fprintf(stderr, "ticksplit-ctl: healing %s failed: %s\n", agent.c_str(), r.error().message.c_str());
  }



  bool interrupted(int sig) {
    heal_parts();  // the fault being followed, if any, writes its fault_end as it returns
    fail_message_ = std::string("interrupted by ") + strsignal(sig) + "; the current fault healed";
    result_.exit_code = 128 + sig;
    return false;
  }

  // The last fault's node events were followed until now.
  void end_following() {
    if (!result_.faults.empty()) result_.faults.back().followed_until_us = agents_.now_us();
  }

  RunResult stopped() {
    end_following();
    std::fprintf(stderr, "ticksplit-ctl: %s\n", fail_message_.c_str());
    history_.add({{"time_us", agents_.now_us()}, {"kind", "run_end"}, {"error", fail_message_}});
    history_.flush_all();
    return std::move(result_);
  }

  RunResult fail(const std::string& agent, const std::string& why) {
    fail_message_ = "agent " + agent + ": " + why;
    result_.exit_code = 1;
    heal_parts();
    return stopped();
  }

  Agents& agents_;
  const ClusterInfo& cluster_;
  std::uint64_t seed_;
  History& history_;
  int signal_fd_;
  std::string run_id_;
  std::vector<std::string> agent_names_;
  std::map<std::string, Part> parts_;
  std::optional<std::size_t> attributed_;  // the fault node events belong to: the last started
  std::int64_t last_heal_us_ = 0;
  std::optional<proto::ProcessKilled> killed_;  // the current kill_process's report
  std::string fail_message_;
  RunResult result_;
};

}  // namespace

RunResult run_plan(Agents& agents, const ClusterInfo& cluster, const std::vector<PlannedStep>& plan,
                   std::uint64_t seed, History& history, int signal_fd) {
  return Runner(agents, cluster, seed, history, signal_fd).run(plan);
}

}  // namespace ticksplit::ctl
