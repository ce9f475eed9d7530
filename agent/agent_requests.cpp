// Messages that arrive on distribution connections: the gen_server protocol on the
// registered name `ticksplit`, net_kernel's is_auth, RPC replies, watcher events.
#include <spdlog/spdlog.h>

#include "agent/agent.hpp"
#include "agent/fault/peers.hpp"
#include "agent/version.hpp"
#include "agent/watcher.hpp"
#include "common/clock.hpp"
#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
#include "common/net/resolve.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::agent {

using ei::atom;
using ei::Term;

namespace {
constexpr unsigned kSendTimeoutMs = 1000;
constexpr std::size_t kEventsPerReply = 1000;
const char* const kRegName = "ticksplit";
}  // namespace

void Agent::on_message(cnode::Connection& conn, const erlang_msg& msg, const ei::XBuff& payload) {
  if (msg.msgtype != ERL_SEND && msg.msgtype != ERL_REG_SEND) {
    // links, monitors (gen_server:call monitors us), exits: nothing to do for a C-node
    spdlog::debug("control message {} from {}, ignoring", msg.msgtype, conn.node());
    return;
  }
  auto term = ei::decode(payload.bytes());
  if (!term) {
    spdlog::warn("undecodable message from {}: {}, dropping", conn.node(), term.error().message);
    return;
  }
  if (msg.msgtype == ERL_SEND) {  // to our pid: only RPC replies are expected
    const auto* rex = term->tuple_of(2);
    auto* n = local_by_fd(conn.fd());
    if (rex != nullptr && (*rex)[0].is_atom("rex") && n != nullptr) return on_rex(*n, (*rex)[1]);
    spdlog::warn("unexpected message from {}: {}, dropping", conn.node(), ei::log_text(*term));
    return;
  }
  const std::string to = msg.toname;
  if (to == kRegName && watcher::is_watcher_message(*term)) {
    // Only a joined local node's own watcher may report what that node saw.
    auto e = watcher::to_event(*term);
    const auto* n = local_by_fd(conn.fd());
    if (e && n != nullptr && e->field("observer")->is_atom(n->name)) return record(std::move(e).value());
    spdlog::warn("bad watcher message from {}: {}, dropping", conn.node(), ei::log_text(*term));
    return;
  }
  if ((to == kRegName || to == "net_kernel") && proto::is_gen_call(*term)) return on_gen_call(conn, to, *term);
  spdlog::warn("message from {} to '{}' that this agent does not serve: {}, dropping", conn.node(), to,
               ei::log_text(*term));
}

void Agent::on_gen_call(cnode::Connection& conn, const std::string& to_name, const Term& msg) {
  auto call = proto::parse_gen_call(msg);
  if (!call) {
    spdlog::warn("{} from {}, dropping (no one to answer)", call.error().message, conn.node());
    return;
  }
  // Handling may drop connections (a failed event send), so `conn` is not used after it.
  const std::string via = conn.node();
  // Who asks is the node at the other end of the connection, never what the message says: a
  // From naming another node would make that node own the fault (and have its address cut
  // instead of the requester's). Erlang never relays messages, so a real call's From is
  // always of the node it arrived from.
  if (call->from.node != via) {
    spdlog::warn("call from {} with a From of {}, refusing (forged)", via, ei::log_text(call->from));
    return;
  }
  Term reply;
  if (to_name == "net_kernel") {
    // net_adm:ping/1 asks net_kernel whether we accept the caller; we do (the cookie matched).
    const auto* r = call->request.tuple_of(2);
    reply = r != nullptr && (*r)[0].is_atom("is_auth")
                ? atom("yes")
                : ei::error_tuple(ei::tuple({atom("unknown_request"), call->request}));
  } else {
    reply = handle_request(call->request, call->from.node);
  }
  auto* target = connection_to(via);
  if (target == nullptr) {
    spdlog::warn("reply to {} dropped: its connection is gone", ei::log_text(call->from));
    return;
  }
  if (auto s = target->send(call->from, proto::gen_reply_term(call->tag, std::move(reply)), kSendTimeoutMs); !s)
    drop_connection(target->fd(), s.error().message);
}

Term Agent::handle_request(const Term& request, const std::string& from_node) {
  auto parsed = proto::parse_request(request);
  if (const auto* rejected = std::get_if<proto::Rejected>(&parsed)) {
    spdlog::debug("refusing request {}: {}", ei::log_text(request), ei::log_text(rejected->reason));
    return ei::error_tuple(rejected->reason);
  }
  struct Visitor {
    Agent& a;
    const std::string& from;
    Term operator()(const proto::StatusRequest&) const { return proto::status_reply(a.status()); }
    Term operator()(const proto::SubscribeRequest& r) const {
      // Only the caller's own processes: their subscriptions end when its connection does.
      if (r.pid.node != from) return ei::error_tuple(ei::tuple({atom("foreign_pid"), Term(r.pid)}));
      switch (a.subscribers_.add(r.pid)) {
        case Subscribers::Added::added:
          spdlog::info("subscriber {} added", ei::log_text(r.pid));
          break;
        case Subscribers::Added::already:
          break;
        case Subscribers::Added::full:
          return ei::error_tuple(
              ei::tuple({atom("too_many_subscribers"), static_cast<std::int64_t>(Subscribers::max_per_node)}));
      }
      return atom("ok");
    }
    Term operator()(const proto::UnsubscribeRequest& r) const {
      if (a.subscribers_.remove(r.pid)) spdlog::info("subscriber {} removed", ei::log_text(r.pid));
      return atom("ok");
    }
    Term operator()(const proto::EventsRequest& r) const {
      auto page = a.log_.since(static_cast<std::uint64_t>(r.since), kEventsPerReply, clock::unix_us());
      return proto::events_reply(page.events, page.next_seq);
    }
    Term operator()(const proto::PartitionRequest& r) const { return a.partition(r, from); }
    Term operator()(const proto::HealRequest& r) const {
      fault::Events events;
      const auto healed = a.engine_->heal(r.id, events);
      a.record(std::move(events));
      if (healed == fault::Engine::Healed::not_found) return ei::error_tuple(atom("not_found"));
      return atom("ok");
    }
    Term operator()(const proto::HealAllRequest&) const {
      fault::Events events;
      const auto n = a.engine_->heal_all(fault::HealReason::heal_all, events);
      a.record(std::move(events));
      return ei::ok_tuple(static_cast<std::int64_t>(n));
    }
  };
  return std::visit(Visitor{*this, from_node}, std::get<proto::Request>(parsed));
}

Term Agent::partition(const proto::PartitionRequest& r, const std::string& from_node) {
  auto addresses = fault::resolve_peers(r.peers);
  if (const auto* why = std::get_if<Term>(&addresses)) {
    spdlog::info("partition refused: {}", ei::log_text(*why));
    return ei::error_tuple(*why);
  }
  fault::FaultSpec spec;
  spec.id = r.id;
  spec.owner = from_node;
  for (const auto& p : r.peers) spec.peers.push_back(p.text);
  spec.addresses = std::get<std::vector<net::Cidr>>(std::move(addresses));
  if (auto own = net::resolve_host(net::node_host(from_node))) spec.owner_addresses = *own;
  spec.direction = r.direction;
  spec.start_at_us = r.start_at_us;
  spec.duration_ms = r.duration_ms;
  fault::Events events;
  auto applied = engine_->apply(spec, events);
  record(std::move(events));
  if (const auto* why = std::get_if<Term>(&applied)) {
    spdlog::info("partition refused: {}", ei::log_text(*why));
    return ei::error_tuple(*why);
  }
  return ei::ok_tuple(ei::binary(std::get<std::string>(applied)));
}

void Agent::record(fault::Events events) {
  for (auto& e : events) record(std::move(e));
}

void Agent::record(proto::Event e) {
  const auto& stored = log_.append(std::move(e));
  Term t = proto::to_term(stored);
  spdlog::info("event {}", ei::log_text(t));
  auto msg = ei::encode(proto::event_message(opts_.name, std::move(t)));
  if (!msg) {
    spdlog::error("cannot encode event: {}", msg.error().message);
    return;
  }
  std::vector<int> broken;
  for (const auto& pid : subscribers_.all()) {
    auto* conn = connection_to(pid.node);
    if (conn == nullptr) continue;  // its node is gone; drop_connection already removed it
    if (auto s = conn->send(pid, *msg, kSendTimeoutMs); !s) broken.push_back(conn->fd());
  }
  for (int fd : broken) drop_connection(fd, "sending an event failed");
}

proto::AgentStatus Agent::status() const {
  proto::AgentStatus s;
  s.agent = opts_.name;
  for (const auto& n : locals_) {
    s.nodes.push_back({n.name, n.state == LocalNode::State::ready});
    if (!s.net_ticktime_ms && n.net_ticktime_ms) {
      s.net_ticktime_ms = n.net_ticktime_ms;
      s.tick_intensity = n.tick_intensity;
    }
  }
  s.backend = backend_ ? backend_->name() : "none";
  if (engine_) s.faults = engine_->status();
  s.version = version;
  for (const auto& c : opts_.exempt) s.exempt.push_back(c.to_string());
  s.max_fault_ms = opts_.max_fault_ms;
  s.events = log_.status();
  return s;
}

}  // namespace ticksplit::agent
