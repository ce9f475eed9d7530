// Stresses over the watcher channel (docs/faults.md, "Stress"): the request checked by
// Stresses and sent to the node's watcher as a command; the early stop sent straight to the
// node's `ticksplit_stress` (the watcher runs at normal priority, which the hogs starve); the
// node's reports turned into events; the stresses of a lost node or an overdue report ended
// with an error.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/agent.hpp"
#include "common/ei/encode.hpp"
#include "common/proto/fault_codec.hpp"

namespace ticksplit::agent {

ei::Term Agent::stress(const proto::StressRequest& r, const std::string& owner) {
  using K = proto::Refusal::Kind;
  const auto refused = [](const proto::Refusal& why) { return ei::error_tuple(proto::to_term(why)); };
  const auto& nodes = joiner_.nodes();
  const auto n = std::find_if(nodes.begin(), nodes.end(), [&](const LocalNode& l) { return l.name == r.node; });
  if (n == nodes.end()) return refused({K::not_local_node, r.node, {}, 0, 0});
  if (n->state != LocalNode::State::ready || !n->watcher) return refused({K::node_not_joined, r.node, {}, 0, 0});
  auto planned = stresses_.plan(r, owner, clock::unix_us(), clock::Monotonic::now(), opts_.max_fault_ms);
  if (const auto* why = std::get_if<proto::Refusal>(&planned)) return refused(*why);
  const auto cmd = std::get<StressCommand>(planned);
  if (auto sent = command(*n, to_command(cmd)); !sent) {
    stresses_.cancel(cmd.id);
    return refused(
        {K::cannot_stress, r.node, "sending the command to its watcher failed: " + sent.error().message, 0, 0});
  }
  return ei::ok_tuple(ei::binary(cmd.id));
}

bool Agent::stop_stress(const std::string& id, proto::HealReason why) {
  if (!stresses_.has(id)) return stresses_.ended(id);
  auto stop = stresses_.stop(id, why);
  const auto& nodes = joiner_.nodes();
  const auto n = std::find_if(nodes.begin(), nodes.end(), [&](const LocalNode& l) { return l.name == stop->first; });
  const auto it = n != nodes.end() ? conns_.find(n->fd) : conns_.end();
  auto msg = ei::encode(watcher::command_message(stop->second));
  if (it == conns_.end() || !it->second->open() || !msg) {
    // Nothing to tell it through: its hogs end at the deadline; the report (or its absence)
    // still ends it here.
    spdlog::warn("stress {} of {}: cannot tell the node to stop early, ignoring: it ends at its deadline", id,
                 stop->first);
    return true;
  }
  if (auto s = it->second->reg_send(cnode_.self(), Stresses::node_name, *msg); !s)
    spdlog::warn("stress {} of {}: the early stop was not sent ({}), ignoring: it ends at its deadline", id,
                 stop->first, s.error().message);
  else
    spdlog::info("stress {} of {}: told to stop ({})", id, stop->first, proto::heal_reason_name(why));
  return true;
}

std::size_t Agent::stop_stresses(const std::optional<std::string>& owner, proto::HealReason why) {
  const auto ids = stresses_.ids_of(owner);
  for (const auto& id : ids) stop_stress(id, why);
  return ids.size();
}

bool Agent::on_stress_report(const std::string& node, const watcher::FaultReport& r) {
  if (r.kind == "rejected") {
    auto e = stresses_.failed(node, r.id, watcher::rejected_error(r));
    if (e) record_stress(*e);
    return e.has_value();
  }
  auto e = stresses_.reported(node, r.kind, r.id, r.props);
  if (e) record_stress(*e);
  return e.has_value();
}

void Agent::record_stress(const proto::FaultEvent& e) {
  if (const auto* s = std::get_if<proto::StressEnded>(&e))
    spdlog::info("stress {} of {} ended ({}): utilisation during {}{}", s->id, s->node,
                 proto::heal_reason_name(s->reason),
                 s->utilisation_during ? std::to_string(*s->utilisation_during) : std::string("unknown"),
                 s->error.empty() ? "" : ", " + s->error);
  else if (const auto* st = std::get_if<proto::StressStarted>(&e))
    spdlog::info("stress {} of {} started: {} hogs", st->id, st->node, st->processes);
  record(proto::to_event(proto::TimedFaultEvent{clock::unix_us(), e}));
}

}  // namespace ticksplit::agent
