// The agent → watcher command channel on the loop (docs/protocol.md, "The watcher channel"):
// commands sent to a local node's watcher, the fault reports that come back dispatched by
// kind, and the faults that use the channel (kill_process; stress in stress_commands.cpp). A new command adds its request
// here, its encoder in watcher_command.*, and a case in on_fault_report.
#include <spdlog/spdlog.h>

#include "agent/agent.hpp"
#include "common/ei/encode.hpp"
#include "common/proto/fault_codec.hpp"

namespace ticksplit::agent {

Status Agent::command(const LocalNode& node, const ei::Term& command) {
  if (node.state != LocalNode::State::ready || !node.watcher) return protocol_error(node.name + " is not joined");
  const auto it = conns_.find(node.fd);
  if (it == conns_.end() || !it->second->open()) return protocol_error(node.name + " has no connection");
  auto encoded = ei::encode(watcher::command_message(command));
  if (!encoded) return encoded.error();
  return it->second->send(*node.watcher, *encoded);
}

ei::Term Agent::kill_process(const proto::KillProcessRequest& r, const std::string& owner) {
  using K = proto::Refusal::Kind;
  const auto refused = [](const proto::Refusal& why) { return ei::error_tuple(proto::to_term(why)); };
  const auto& nodes = joiner_.nodes();
  const auto n = std::find_if(nodes.begin(), nodes.end(), [&](const LocalNode& l) { return l.name == r.node; });
  if (n == nodes.end()) return refused({K::not_local_node, r.node, {}, 0, 0});
  // Joined, and its watcher said its pid (a watcher without one takes no commands).
  if (n->state != LocalNode::State::ready || !n->watcher) return refused({K::node_not_joined, r.node, {}, 0, 0});
  auto planned = kills_.plan(r, owner, clock::unix_us(), clock::Monotonic::now(), opts_.max_fault_ms);
  if (const auto* why = std::get_if<proto::Refusal>(&planned)) return refused(*why);
  const auto& cmd = std::get<watcher::KillProcessCommand>(planned);
  if (auto sent = command(*n, watcher::to_command(cmd)); !sent) {
    kills_.cancel(cmd.id);
    drop_connection(n->fd, "sending a command to its watcher failed: " + sent.error().message);
    return refused({K::node_not_joined, r.node, {}, 0, 0});
  }
  return ei::ok_tuple(ei::binary(cmd.id));
}

void Agent::on_fault_report(const cnode::Stream& conn, const ei::Term& msg) {
  // Only a local node's own watcher, on that node's connection, reports on its commands.
  const auto* n = joiner_.node_on(conn.fd());
  auto report = watcher::fault_report_from(msg);
  if (!report || n == nullptr || report->observer != n->name) {
    warn("fault_report", "bad fault report from " + conn.node() + ": " +
                             (report ? std::string("not its own node's watcher") : report.error().message) +
                             ", dropping");
    return;
  }
  const auto& r = *report;
  if (r.kind == "process_killed") {
    auto seen = watcher::kill_seen_from(r);
    auto k = seen ? kills_.reported(n->name, r.id, *seen)
                  : kills_.failed(n->name, r.id, "malformed report from the watcher: " + seen.error().message);
    if (k) return record(*k);
  } else if (r.kind == "rejected") {
    if (auto k = kills_.failed(n->name, r.id, watcher::rejected_error(r))) return record(*k);
    if (on_stress_report(n->name, r)) return;
  } else if (r.kind == "stress_started" || r.kind == "stress_ended") {
    if (on_stress_report(n->name, r)) return;
  } else {
    return warn("fault_report",
                "fault report of unknown kind " + ei::log_text(ei::atom(r.kind)) + " from " + n->name + ", dropping");
  }
  warn("fault_report", "fault report " + r.kind + " from " + n->name + " for " + ei::log_text(ei::binary(r.id)) +
                           ", which is no command of this agent's to that node (late or forged), dropping");
}

void Agent::record(const proto::ProcessKilled& k) {
  record(proto::to_event(proto::TimedFaultEvent{clock::unix_us(), k}));
}

void Agent::node_commands_lost(const std::string& node, const std::string& why) {
  for (const auto& k : kills_.node_lost(node, why)) record(k);
  for (const auto& e : stresses_.node_lost(node, why)) record_stress(e);
}

void Agent::expire_commands(clock::Monotonic::time_point now) {
  for (const auto& k : kills_.expire(now)) record(k);
  for (const auto& e : stresses_.expire(now)) record_stress(e);
}

}  // namespace ticksplit::agent
