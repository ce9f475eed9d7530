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
#include "common/proto/fault_codec.hpp"
#include "common/proto/request.hpp"
#include "common/node_name.hpp"

namespace ticksplit::agent {

using ei::atom;
using ei::Term;

namespace {
constexpr std::size_t kEventsPerReply = 1000;
constexpr std::size_t kEventsReplyBytes = 1u << 20;  // well inside one packet (dist::kMaxPacket)
const char* const kRegName = agent_registered_name;
}  // namespace

void Agent::on_message(cnode::Stream& conn, const cnode::Message& msg) {
  if (msg.payload.empty()) {
    // links, monitors (gen_server:call monitors us), exits: nothing to do for a C-node
    spdlog::debug("control message {} from {}, ignoring", msg.op, conn.node());
    return;
  }
  auto term = ei::decode(msg.payload.data(), msg.payload.size());
  if (!term) {
    warn_peer("undecodable", "undecodable message from " + conn.node() + ": " + term.error().message + ", dropping");
    return;
  }
  if (!msg.from) {  // SEND to our pid: only RPC replies are expected
    const auto* rex = term->tuple_of(2);
    auto* n = local_by_fd(conn.fd());
    if (rex != nullptr && (*rex)[0].is_atom("rex") && n != nullptr) return on_rex(*n, (*rex)[1]);
    warn_peer("unexpected", "unexpected message from " + conn.node() + ": " + ei::log_text(*term) + ", dropping");
    return;
  }
  const std::string& to = msg.to_name;
  if (to == kRegName && watcher::is_watcher_message(*term)) {
    // Only a joined local node's own watcher may report what that node saw.
    auto e = watcher::to_event(*term);
    const auto* n = local_by_fd(conn.fd());
    if (e && n != nullptr && e->field("observer")->is_atom(n->name)) return record(std::move(e).value());
    warn_peer("watcher", "bad watcher message from " + conn.node() + ": " + ei::log_text(*term) + ", dropping");
    return;
  }
  if ((to == kRegName || to == "net_kernel") && proto::is_gen_call(*term)) return on_gen_call(conn, to, *term);
  warn_peer(to == kRegName ? "not_a_call" : "unserved_name", "message from " + conn.node() + " to '" + ei::log_text(ei::atom(to)) +
            "' that this agent does not serve: " + ei::log_text(*term) + ", dropping");
}

void Agent::on_gen_call(cnode::Stream& conn, const std::string& to_name, const Term& msg) {
  // A lookup for this connection (its host, or its partition's peers) is under way: the call
  // waits, the loop does not.
  if (auto l = lookups_.find(conn.fd()); l != lookups_.end() && !l->second.waited_out) {
    auto& waiting = deferred_[conn.fd()];
    if (waiting.size() >= kMaxDeferred)
      return warn_peer("deferred", "calls from " + conn.node() + " during a lookup: more than " +
                                       std::to_string(kMaxDeferred) + ", dropping");
    waiting.emplace_back(to_name, msg);
    return;
  }
  auto call = proto::parse_gen_call(msg);
  if (!call) {
    warn_peer("bad_call", call.error().message + " from " + conn.node() + ", dropping (no one to answer)");
    return;
  }
  // Handling may drop connections (a failed event send), so `conn` is not used after it.
  const std::string via = conn.node();
  // Who asks is the node at the other end of the connection, never what the message says: a
  // From naming another node would make that node own the fault (and have its address cut
  // instead of the requester's). Erlang never relays messages, so a real call's From is
  // always of the node it arrived from.
  if (call->from.node != via) {
    warn_peer("forged", "call from " + via + " with a From of " + ei::log_text(call->from) + ", refusing (forged)");
    return;
  }
  const Caller caller{via, call->from, call->tag};
  std::optional<Term> reply;
  if (to_name == "net_kernel") {
    // net_adm:ping/1 asks net_kernel whether we accept the caller; we do (the cookie matched).
    const auto* r = call->request.tuple_of(2);
    reply = r != nullptr && (*r)[0].is_atom("is_auth")
                ? atom("yes")
                : ei::error_tuple(ei::tuple({atom("unknown_request"), call->request}));
  } else {
    reply = handle_request(call->request, conn.fd(), caller);
  }
  if (reply) answer(caller, std::move(*reply));
}

void Agent::answer(const Caller& caller, Term reply) {
  auto* target = connection_to(caller.node);
  if (target == nullptr) {
    spdlog::warn("reply to {} dropped: its connection is gone", ei::log_text(caller.from));
    return;
  }
  auto encoded = ei::encode(proto::gen_reply_term(caller.tag, std::move(reply)));
  if (!encoded) {
    spdlog::error("cannot encode a reply: {}", encoded.error().message);
    return;
  }
  auto sent = target->send(caller.from, *encoded);
  if (!sent && sent.error().domain == Domain::codec) {
    // Too large for one packet: the caller hears so, and keeps its connection and faults.
    spdlog::warn("reply to {} too large ({}), answering reply_too_large", ei::log_text(caller.from),
                 sent.error().message);
    auto small = ei::encode(proto::gen_reply_term(caller.tag, ei::error_tuple(atom("reply_too_large"))));
    if (small) sent = target->send(caller.from, *small);
  }
  if (!sent) drop_connection(target->fd(), sent.error().message);
}

void Agent::ask_engine(EngineThread::Work work, Caller caller) {
  engine_->post(std::move(work), [this, caller = std::move(caller)](Term reply) { answer(caller, std::move(reply)); });
}

std::optional<Term> Agent::handle_request(const Term& request, int fd, const Caller& caller) {
  auto parsed = proto::parse_request(request);
  if (const auto* rejected = std::get_if<proto::Rejected>(&parsed)) {
    spdlog::debug("refusing request {}: {}", ei::log_text(request), ei::log_text(rejected->reason));
    return ei::error_tuple(rejected->reason);
  }
  struct Visitor {
    Agent& a;
    int fd;
    const Caller& caller;
    std::optional<Term> operator()(const proto::StatusRequest&) const {
      // The faults from the engine's thread, the rest when they come back (it may have
      // changed meanwhile: a node joined, say; the reply says how things were then).
      a.engine_->post([](fault::Engine& e, fault::Output& out) {
        std::vector<Term> faults;
        for (const auto& f : e.status(out)) faults.push_back(proto::to_term(f));
        return ei::list(std::move(faults));
      },
                      [&a = a, caller = caller](Term faults) {
                        const auto* list = faults.as<ei::List>();
                        a.answer(caller, list != nullptr ? proto::status_reply(a.status(list->items)) : faults);
                      });
      return std::nullopt;
    }
    std::optional<Term> operator()(const proto::SubscribeRequest& r) const {
      // Only the caller's own processes: their subscriptions end when its connection does.
      if (r.pid.node != caller.node) return ei::error_tuple(ei::tuple({atom("foreign_pid"), Term(r.pid)}));
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
    std::optional<Term> operator()(const proto::UnsubscribeRequest& r) const {
      if (a.subscribers_.remove(r.pid)) spdlog::info("subscriber {} removed", ei::log_text(r.pid));
      return atom("ok");
    }
    std::optional<Term> operator()(const proto::EventsRequest& r) const {
      auto page = a.log_.since(static_cast<std::uint64_t>(r.since), kEventsPerReply, kEventsReplyBytes, clock::unix_us());
      return proto::events_reply(page.events, page.next_seq);
    }
    std::optional<Term> operator()(const proto::PartitionRequest& r) const { return a.partition(r, fd, caller); }
    std::optional<Term> operator()(const proto::HealRequest& r) const {
      a.ask_engine([id = r.id](fault::Engine& e, fault::Output& out) -> Term {
        if (e.heal(id, out) == fault::Engine::Healed::not_found) return ei::error_tuple(atom("not_found"));
        return atom("ok");
      },
                   caller);
      return std::nullopt;
    }
    std::optional<Term> operator()(const proto::HealAllRequest&) const {
      a.ask_engine([](fault::Engine& e, fault::Output& out) {
        return ei::ok_tuple(static_cast<std::int64_t>(e.heal_all(fault::HealReason::heal_all, out)));
      },
                   caller);
      return std::nullopt;
    }
  };
  return std::visit(Visitor{*this, fd, caller}, std::get<proto::Request>(parsed));
}

// A refused partition, logged once, as the caller will read it.
Term Agent::refused(const Caller& caller, const proto::Refusal& why, const std::string& context) {
  auto reason = proto::to_term(why);
  spdlog::info("partition from {} refused: {}{}", caller.node, ei::log_text(reason), context);
  return ei::error_tuple(std::move(reason));
}

std::optional<Term> Agent::partition(const proto::PartitionRequest& r, int fd, const Caller& caller) {
  using K = proto::Refusal::Kind;
  // Fail closed: a requester whose addresses are unknown could have its own cut.
  const auto owner = requesters_.find(fd);
  if (owner == requesters_.end() || !owner->second) {
    const auto why = owner != requesters_.end() ? owner->second.error().message
                     : lookups_.count(fd)        ? std::string("its host is still being looked up")
                                                 : std::string("unknown connection");
    return refused(caller, {K::unresolvable_requester, net::node_host(caller.node), {}, 0, 0},
                   " (" + ei::log_text(ei::binary(why)) + ")");
  }
  // Peers named by host name are looked up on a thread first; this connection's later calls
  // wait for it (on_gen_call), the loop does not.
  auto names = fault::peer_host_names(r.peers);
  if (names.size() > fault::max_peer_host_names)
    return refused(caller, {K::too_many_peer_hosts, {}, {}, static_cast<std::int64_t>(fault::max_peer_host_names), 0});
  if (names.empty()) {
    arm(r, *owner->second, caller, {});
    return std::nullopt;
  }
  try {
    auto lookup = std::make_unique<net::Lookup>(names);
    lookups_.insert_or_assign(fd, PendingLookup{std::move(lookup), clock::Monotonic::now() + kLookupDeadline,
                                                std::move(names), PendingLookup::Partition{r, *owner->second, caller}});
  } catch (const std::exception& e) {
    return refused(caller, {K::cannot_resolve_peers, e.what(), {}, 0, 0});
  }
  return std::nullopt;
}

// The peers to addresses (the names as `names` has them: nothing is resolved here), then the
// fault to the engine's thread; the caller hears when it is armed or refused.
void Agent::arm(const proto::PartitionRequest& r, std::vector<net::Cidr> spared, const Caller& caller,
                const net::Resolved& names) {
  const auto from_lookup = [&names](const std::string& host) -> Result<std::vector<net::Cidr>> {
    if (auto it = names.find(host); it != names.end()) return it->second;
    return net::resolve_host(host);  // a literal (peer_host_names left it out): no resolver
  };
  auto addresses = fault::resolve_peers(r.peers, from_lookup);
  if (const auto* why = std::get_if<proto::Refusal>(&addresses)) return answer(caller, refused(caller, *why));
  fault::FaultSpec spec;
  spec.id = r.id;
  spec.owner = caller.node;
  for (const auto& p : r.peers) spec.peers.push_back(p.text);
  spec.addresses = std::get<std::vector<net::Cidr>>(std::move(addresses));
  spec.owner_addresses = std::move(spared);
  spec.direction = r.direction;
  spec.start_at_us = r.start_at_us;
  spec.duration_ms = r.duration_ms;
  // The refusal travels back typed (as the Reason term), and is logged on the loop.
  engine_->post([spec = std::move(spec)](fault::Engine& e, fault::Output& out) -> Term {
    auto applied = e.apply(spec, out);
    if (const auto* why = std::get_if<proto::Refusal>(&applied)) return ei::error_tuple(proto::to_term(*why));
    return ei::ok_tuple(ei::binary(std::get<std::string>(applied)));
  },
                [this, caller](Term reply) {
                  const auto* t = reply.tuple_of(2);
                  if (t != nullptr && (*t)[0].is_atom("error"))
                    spdlog::info("partition from {} refused: {}", caller.node, ei::log_text((*t)[1]));
                  else if (t != nullptr)
                    spdlog::info("partition from {} armed: {}", caller.node, ei::log_text((*t)[1]));
                  answer(caller, std::move(reply));
                });
}

// The one place a fault is logged: its events (record logs each) and the kernel errors the
// engine worked around.
void Agent::record(fault::Output output) {
  for (const auto& p : output.problems) spdlog::error("fault engine: {}", p);
  for (const auto& e : output.events) record(proto::to_event(e));
}

void Agent::record(proto::Event e) {
  // The fan-out's seam onto this loop's connections.
  struct Connections final : EventFanout::Sender {
    Agent& a;
    explicit Connections(Agent& agent) : a(agent) {}
    Sent send(const ei::Pid& to, const ei::XBuff& message) override {
      auto* conn = a.connection_to(to.node);
      if (conn == nullptr) return Sent::no_connection;
      return conn->send(to, message) ? Sent::queued : Sent::failed;
    }
  } connections(*this);
  for (const auto& node : fanout_.publish(std::move(e), connections))
    if (auto* conn = connection_to(node)) drop_connection(conn->fd(), "sending an event failed");
}

proto::AgentStatus Agent::status(std::vector<Term> faults) const {
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
  s.faults = std::move(faults);
  s.version = version;
  for (const auto& c : opts_.exempt) s.exempt.push_back(c.to_string());
  s.max_fault_ms = opts_.max_fault_ms;
  s.events = log_.status();
  return s;
}

}  // namespace ticksplit::agent
