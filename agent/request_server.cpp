#include "agent/request_server.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>

#include "agent/access/name_pattern.hpp"
#include "agent/fault/peers.hpp"
#include "common/ei/encode.hpp"
#include "common/net/resolve.hpp"
#include "common/proto/fault_codec.hpp"

namespace ticksplit::agent {

using ei::atom;
using ei::Term;

RequestServer::RequestServer(Ports& ports, EventLog& log, Subscribers& subscribers, Seams seams,
                             std::vector<std::string> allow)
    : ports_(ports), log_(log), subscribers_(subscribers), seams_(std::move(seams)), allow_(std::move(allow)) {}

// What a connection's faults must spare. An address literal needs no resolver; a host name is
// looked up on a thread, and the calls that arrive meanwhile wait (in order, at most
// max_deferred) instead of the loop.
void RequestServer::opened(int fd, const std::string& node, const std::optional<net::Cidr>& peer, bool dialed) {
  // Every connection leaves through closed(), so a number is never still in use here; were it,
  // nothing of the old connection (its waiting calls, its lookup) would carry over.
  lookups_.erase(fd);
  deferred_.erase(fd);
  auto& conn = connections_[fd];
  conn = Connection{};
  conn.node = node;
  conn.peer = peer;
  conn.allowed = dialed || access::name_allowed(allow_, node);
  if (!conn.allowed) {
    // Every call of it is refused, so nothing needs its addresses: no lookup for it to start.
    conn.spared = Error{Domain::config, 0, "not allowed"};
    return;
  }
  const auto host = net::node_host(node);
  if (net::parse_cidr(host)) {
    conn.spared = requester_addresses(node, peer, seams_.addresses);
    return;
  }
  try {
    lookups_.insert_or_assign(fd, PendingLookup{std::make_unique<net::Lookup>(std::vector{host}, seams_.resolve),
                                                seams_.now() + lookup_deadline, {host}, std::nullopt});
  } catch (const std::exception& e) {  // fail closed: no addresses, its partitions refused
    conn.spared = Error{Domain::system, 0, std::string("cannot start resolving: ") + e.what()};
  }
}

void RequestServer::closed(int fd) {
  const auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  const std::string node = it->second.node;
  connections_.erase(it);
  lookups_.erase(fd);
  deferred_.erase(fd);
  if (auto dropped = subscribers_.remove_node(node); dropped > 0)
    spdlog::info("{} subscriber(s) on {} removed: connection gone", dropped, node);
  if (auto stopped = ports_.stop_stresses(node, fault::HealReason::owner_gone); stopped > 0)
    spdlog::info("{} stress(es) of {} stopped: connection gone", stopped, node);
  // Its partition still waiting for a lookup went with lookups_; one already posted is applied
  // first (the engine takes work in order), then healed here.
  ports_.post([node](fault::Engine& e, fault::Output& out) {
    return Term(static_cast<std::int64_t>(e.heal_owner(node, out)));
  },
              [node](Term healed) {
                if (const auto* n = healed.as<std::int64_t>(); n != nullptr && *n > 0)
                  spdlog::info("{} fault(s) of {} healed: connection gone", *n, node);
              });
}

void RequestServer::on_call(int fd, const std::string& to_name, const Term& message) {
  const auto conn = connections_.find(fd);
  if (conn == connections_.end()) return;  // not open: nobody to answer
  const std::string via = conn->second.node;
  // A lookup for this connection (its host, or its partition's peers) is under way: the call
  // waits, the loop does not.
  if (auto l = lookups_.find(fd); l != lookups_.end() && !l->second.waited_out) {
    auto& waiting = deferred_[fd];
    if (waiting.size() >= max_deferred)
      return ports_.warn("deferred", "calls from " + via + " during a lookup: more than " +
                                         std::to_string(max_deferred) + ", dropping");
    waiting.emplace_back(to_name, message);
    return;
  }
  auto call = proto::parse_gen_call(message);
  if (!call) return ports_.warn("bad_call", call.error().message + " from " + via + ", dropping (no one to answer)");
  // Who asks is the node at the other end of the connection, never what the message says: a
  // From naming another node would make that node own the fault (and have its address cut
  // instead of the requester's). Erlang never relays messages, so a real call's From is
  // always of the node it arrived from.
  if (call->from.node != via)
    return ports_.warn("forged", "call from " + via + " with a From of " + ei::log_text(call->from) + ", refusing (forged)");
  const Caller caller{via, call->from, call->tag};
  // --allow: the name is the one the handshake claimed (the cookie proved the rest), so this
  // only keeps honest callers with the wrong name away. net_kernel's is_auth (net_adm:ping)
  // still answers: it commands nothing, and says only that the connection is up.
  if (!conn->second.allowed && to_name != "net_kernel") {
    ports_.warn("not_allowed", "request from " + via + " refused: its name matches no --allow pattern (not_allowed)");
    const proto::Refusal refusal{proto::Refusal::Kind::not_allowed, {}, {}, 0, 0};
    return ports_.answer(caller, ei::error_tuple(proto::to_term(refusal)));
  }
  std::optional<Term> reply;
  if (to_name == "net_kernel") {
    // net_adm:ping/1 asks net_kernel whether we accept the caller; we do (the cookie matched).
    const auto* r = call->request.tuple_of(2);
    reply = r != nullptr && (*r)[0].is_atom("is_auth") ? atom("yes")
                                                        : ei::error_tuple(ei::tuple({atom("unknown_request"), call->request}));
  } else {
    reply = handle(call->request, fd, caller);
  }
  if (reply) ports_.answer(caller, std::move(*reply));
}

void RequestServer::ask_engine(EngineThread::Work work, Caller caller) {
  ports_.post(std::move(work), [this, caller = std::move(caller)](Term reply) { ports_.answer(caller, std::move(reply)); });
}

std::optional<Term> RequestServer::handle(const Term& request, int fd, const Caller& caller) {
  auto parsed = proto::parse_request(request);
  if (const auto* rejected = std::get_if<proto::Rejected>(&parsed)) {
    spdlog::debug("refusing request {}: {}", ei::log_text(request), ei::log_text(rejected->reason));
    return ei::error_tuple(rejected->reason);
  }
  struct Visitor {
    RequestServer& s;
    int fd;
    const Caller& caller;
    std::optional<Term> operator()(const proto::StatusRequest&) const {
      // The faults from the engine, the rest when they come back (it may have changed
      // meanwhile: a node joined, say; the reply says how things were then).
      s.ports_.post([](fault::Engine& e, fault::Output& out) {
        std::vector<Term> faults;
        for (const auto& f : e.status(out)) faults.push_back(proto::to_term(f));
        for (const auto& p : e.pause_status()) faults.push_back(proto::to_term(p));
        for (const auto& k : e.kill_status()) faults.push_back(proto::to_term(k));
        return ei::list(std::move(faults));
      },
                    [&s = s, caller = caller](Term faults) {
                      const auto* list = faults.as<ei::List>();
                      if (list == nullptr) return s.ports_.answer(caller, faults);  // {error, {internal, _}}
                      auto status = s.ports_.status();  // its faults: the loop's (stresses)
                      status.faults.insert(status.faults.begin(), list->items.begin(), list->items.end());
                      s.ports_.answer(caller, proto::status_reply(status));
                    });
      return std::nullopt;
    }
    std::optional<Term> operator()(const proto::SubscribeRequest& r) const {
      // Only the caller's own processes: their subscriptions end when its connection does.
      if (r.pid.node != caller.node) return ei::error_tuple(ei::tuple({atom("foreign_pid"), Term(r.pid)}));
      switch (s.subscribers_.add(r.pid)) {
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
      if (s.subscribers_.remove(r.pid)) spdlog::info("subscriber {} removed", ei::log_text(r.pid));
      return atom("ok");
    }
    std::optional<Term> operator()(const proto::EventsRequest& r) const {
      auto page = s.log_.since(static_cast<std::uint64_t>(r.since), events_per_reply, events_reply_bytes, clock::unix_us());
      return proto::events_reply(page.events, page.next_seq);
    }
    std::optional<Term> operator()(const proto::PartitionRequest& r) const { return s.partition(r, fd, caller); }
    std::optional<Term> operator()(const proto::PauseRequest& r) const { return s.pause(r, caller); }
    std::optional<Term> operator()(const proto::KillNodeRequest& r) const { return s.kill_node(r, caller); }
    std::optional<Term> operator()(const proto::KillProcessRequest& r) const {
      auto reply = s.ports_.kill_process(r, caller.node);
      const auto* t = reply.tuple_of(2);
      spdlog::info("kill_process of {} from {} {}: {}", r.target.name, caller.node,
                   t != nullptr && (*t)[0].is_atom("ok") ? "sent" : "refused",
                   ei::log_text(t != nullptr ? (*t)[1] : reply));
      return reply;
    }
    std::optional<Term> operator()(const proto::StressRequest& r) const {
      auto reply = s.ports_.stress(r, caller.node);
      const auto* t = reply.tuple_of(2);
      spdlog::info("stress of {} from {} {}: {}", r.node, caller.node,
                   t != nullptr && (*t)[0].is_atom("ok") ? "sent" : "refused", ei::log_text(t != nullptr ? (*t)[1] : reply));
      return reply;
    }
    std::optional<Term> operator()(const proto::HealRequest& r) const {
      // A stress is the loop's; the engine heals a partition or pause of that id too, if any.
      const bool stress = s.ports_.stop_stress(r.id, fault::HealReason::request);
      s.ask_engine([id = r.id, stress](fault::Engine& e, fault::Output& out) -> Term {
        if (e.heal(id, out) == fault::Engine::Healed::not_found && !stress) return ei::error_tuple(atom("not_found"));
        return atom("ok");
      },
                   caller);
      return std::nullopt;
    }
    std::optional<Term> operator()(const proto::HealAllRequest&) const {
      const auto stresses = static_cast<std::int64_t>(s.ports_.stop_stresses(std::nullopt, fault::HealReason::heal_all));
      s.ask_engine([stresses](fault::Engine& e, fault::Output& out) {
        return ei::ok_tuple(static_cast<std::int64_t>(e.heal_all(fault::HealReason::heal_all, out)) + stresses);
      },
                   caller);
      return std::nullopt;
    }
  };
  return std::visit(Visitor{*this, fd, caller}, std::get<proto::Request>(parsed));
}

// A refused partition, logged once, as the caller will read it.
Term RequestServer::refused(const Caller& caller, const proto::Refusal& why, const std::string& context) {
  auto reason = proto::to_term(why);
  spdlog::info("partition from {} refused: {}{}", caller.node, ei::log_text(reason), context);
  return ei::error_tuple(std::move(reason));
}

std::optional<Term> RequestServer::partition(const proto::PartitionRequest& r, int fd, const Caller& caller) {
  using K = proto::Refusal::Kind;
  // Fail closed: a requester whose addresses are unknown could have its own cut.
  const auto& conn = connections_.at(fd);
  if (!conn.spared || !*conn.spared) {
    const auto why = conn.spared ? conn.spared->error().message : std::string("its host is still being looked up");
    return refused(caller, {K::unresolvable_requester, net::node_host(caller.node), {}, 0, 0},
                   " (" + ei::log_text(ei::binary(why)) + ")");
  }
  // Peers named by host name are looked up on a thread first; this connection's later calls
  // wait for it (on_call), the loop does not.
  auto names = fault::peer_host_names(r.peers);
  if (names.size() > fault::max_peer_host_names)
    return refused(caller, {K::too_many_peer_hosts, {}, {}, static_cast<std::int64_t>(fault::max_peer_host_names), 0});
  if (names.empty()) {
    arm(r, **conn.spared, caller, {});
    return std::nullopt;
  }
  try {
    auto lookup = std::make_unique<net::Lookup>(names, seams_.resolve);
    lookups_.insert_or_assign(fd, PendingLookup{std::move(lookup), seams_.now() + lookup_deadline, std::move(names),
                                                PendingLookup::Partition{r, **conn.spared, caller}});
  } catch (const std::exception& e) {
    return refused(caller, {K::cannot_resolve_peers, e.what(), {}, 0, 0});
  }
  return std::nullopt;
}

// The peers to addresses (the names as `names` has them: nothing is resolved here), then the
// fault to the engine; the caller hears when it is armed or refused.
void RequestServer::arm(const proto::PartitionRequest& r, std::vector<net::Cidr> spared, const Caller& caller,
                        const net::Resolved& names) {
  const auto from_lookup = [&names](const std::string& host) -> Result<std::vector<net::Cidr>> {
    if (auto it = names.find(host); it != names.end()) return it->second;
    return net::resolve_host(host);  // a literal (peer_host_names left it out): no resolver
  };
  auto addresses = fault::resolve_peers(r.peers, from_lookup);
  if (const auto* why = std::get_if<proto::Refusal>(&addresses)) return ports_.answer(caller, refused(caller, *why));
  fault::FaultSpec spec;
  spec.id = r.id;
  spec.owner = caller.node;
  for (const auto& p : r.peers) spec.peers.push_back(p.text);
  spec.addresses = std::get<std::vector<net::Cidr>>(std::move(addresses));
  spec.owner_addresses = std::move(spared);
  spec.direction = r.direction;
  spec.start_at_us = r.start_at_us;
  spec.duration_ms = r.duration_ms;
  spec.loss = r.loss;
  apply_fault("partition", [spec = std::move(spec)](fault::Engine& e, fault::Output& out) -> Term {
    auto applied = e.apply(spec, out);
    if (const auto* why = std::get_if<proto::Refusal>(&applied)) return ei::error_tuple(proto::to_term(*why));
    return ei::ok_tuple(ei::binary(std::get<std::string>(applied)));
  },
              caller);
}

// The refusal travels back typed (as the Reason term), and is logged on the loop.
void RequestServer::apply_fault(const char* what, EngineThread::Work work, const Caller& caller) {
  ports_.post(std::move(work), [this, caller, what](Term reply) {
    const auto* t = reply.tuple_of(2);
    if (t != nullptr && (*t)[0].is_atom("error"))
      spdlog::info("{} from {} refused: {}", what, caller.node, ei::log_text((*t)[1]));
    else if (t != nullptr)
      spdlog::info("{} from {} armed: {}", what, caller.node, ei::log_text((*t)[1]));
    ports_.answer(caller, std::move(reply));
  });
}

// The node's process as this agent holds it (a pidfd taken when it joined), then the pause to
// the engine, which starts its guard.
std::optional<Term> RequestServer::pause(const proto::PauseRequest& r, const Caller& caller) {
  auto process = ports_.local_process(r.node);
  if (const auto* why = std::get_if<proto::Refusal>(&process)) {
    auto reason = proto::to_term(*why);
    spdlog::info("pause from {} refused: {}", caller.node, ei::log_text(reason));
    return ei::error_tuple(std::move(reason));
  }
  fault::PauseSpec spec{r.id, caller.node, r.node, std::get<fault::NodeProcess>(std::move(process)), r.start_at_us,
                        r.duration_ms};
  apply_fault("pause", [spec = std::move(spec)](fault::Engine& e, fault::Output& out) -> Term {
    auto applied = e.pause(spec, out);
    if (const auto* why = std::get_if<proto::Refusal>(&applied)) return ei::error_tuple(proto::to_term(*why));
    return ei::ok_tuple(ei::binary(std::get<std::string>(applied)));
  },
              caller);
  return std::nullopt;
}

// As a pause: the node's process as this agent holds it, then the kill to the engine, which
// starts its guard (with the node's --node-start command if a restart is asked).
std::optional<Term> RequestServer::kill_node(const proto::KillNodeRequest& r, const Caller& caller) {
  auto process = ports_.local_process(r.node);
  if (auto* why = std::get_if<proto::Refusal>(&process)) {
    // local_process speaks of pauses; the same checks refuse a kill as cannot_kill
    if (why->kind == proto::Refusal::Kind::cannot_pause) why->kind = proto::Refusal::Kind::cannot_kill;
    auto reason = proto::to_term(*why);
    spdlog::info("kill_node from {} refused: {}", caller.node, ei::log_text(reason));
    return ei::error_tuple(std::move(reason));
  }
  fault::KillSpec spec{r.id, caller.node, r.node, std::get<fault::NodeProcess>(std::move(process)), r.start_at_us,
                       r.restart_after_ms};
  apply_fault("kill_node", [spec = std::move(spec)](fault::Engine& e, fault::Output& out) -> Term {
    auto applied = e.kill_node(spec, out);
    if (const auto* why = std::get_if<proto::Refusal>(&applied)) return ei::error_tuple(proto::to_term(*why));
    return ei::ok_tuple(ei::binary(std::get<std::string>(applied)));
  },
              caller);
  return std::nullopt;
}

std::vector<std::pair<int, int>> RequestServer::lookup_fds() const {
  std::vector<std::pair<int, int>> fds;
  for (const auto& [fd, l] : lookups_) fds.emplace_back(l.lookup->event_fd(), fd);
  return fds;
}

void RequestServer::on_lookup_ready(int fd) {
  const auto it = lookups_.find(fd);
  if (it == lookups_.end()) return;
  auto found = it->second.lookup->take();
  if (!found) return;  // readiness of a closed fd whose number the lookup took: still at work
  resolved(fd, *found);
}

// A partition's lookup past its deadline is abandoned (its thread ends when the resolver gives
// up): the names it has not resolved count as unresolvable. A requester's goes on, but its
// calls stop waiting: they are answered, its partitions refused until its host is known.
void RequestServer::expire(clock::Monotonic::time_point now) {
  std::vector<int> late;
  for (const auto& [fd, l] : lookups_)
    if (!l.waited_out && l.deadline <= now) late.push_back(fd);
  for (int fd : late) {
    auto it = lookups_.find(fd);  // an earlier one's replayed calls may have closed this connection
    if (it == lookups_.end()) continue;
    auto& pending = it->second;
    ports_.warn("lookup", "looking up " + ei::log_text(ei::binary(pending.names.front())) +
                              (pending.names.size() > 1 ? " and others" : "") + " took more than " +
                              std::to_string(lookup_deadline.count()) + " s");
    if (!pending.partition) {
      pending.waited_out = true;
      replay_deferred(fd);
      continue;
    }
    auto found = pending.lookup->so_far();
    for (const auto& name : pending.names)
      found.try_emplace(name, Error{Domain::system, ETIMEDOUT,
                                    "no answer from the resolver within " + std::to_string(lookup_deadline.count()) + " s"});
    resolved(fd, found);
  }
}

std::optional<clock::Monotonic::time_point> RequestServer::next_deadline() const {
  std::optional<clock::Monotonic::time_point> next;
  for (const auto& [fd, l] : lookups_)
    if (!l.waited_out && (!next || l.deadline < *next)) next = l.deadline;
  return next;
}

// What a lookup found: the connection's own addresses, or its partition's peers. Then the
// calls that waited for it, in order.
void RequestServer::resolved(int fd, const net::Resolved& found) {
  auto pending = std::move(lookups_.at(fd));
  lookups_.erase(fd);
  if (pending.partition) {
    arm(pending.partition->request, std::move(pending.partition->spared), pending.partition->caller, found);
  } else {
    const auto host_of = [&found](const std::string& host) -> Result<std::vector<net::Cidr>> { return found.at(host); };
    auto& conn = connections_.at(fd);
    conn.spared = requester_addresses(conn.node, conn.peer, {nullptr, host_of});
  }
  replay_deferred(fd);
}

// A partition among them may start a lookup of its own: on_call then defers the rest again,
// in order.
void RequestServer::replay_deferred(int fd) {
  auto calls = std::move(deferred_[fd]);
  deferred_.erase(fd);
  for (auto& [to, msg] : calls) {
    if (!connections_.count(fd)) return;  // a reply could not be sent: the connection is gone
    on_call(fd, to, msg);
  }
}

}  // namespace ticksplit::agent
