// The loop's connections: accepting (bounded per turn, the oldest handshake evicted when too
// many are in progress), handshakes with a deadline, open connections, and what arrives on them,
// dispatched: RPC replies and watcher events to the NodeJoiner's nodes, calls to the
// RequestServer. Also the Ports through which those units reach the loop.
#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "agent/agent.hpp"
#include "agent/access/peer_filter.hpp"

#include "agent/pause/guard.hpp"
#include "agent/pause/pidfd.hpp"
#include "agent/pause/proc_stat.hpp"
#include "common/cnode/dialer.hpp"
#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
#include "common/node_name.hpp"
#include "common/proto/fault_codec.hpp"
#include "agent/version.hpp"

namespace ticksplit::agent {

namespace {

// A handshake is four small messages; a real node finishes in milliseconds, and Erlang's own
// net_setuptime is 7 s. Past this a client is dropped, and while this many are still shaking
// hands new ones are refused at once (docs/agent-limits.md).
constexpr auto kHandshakeDeadline = std::chrono::seconds(3);
constexpr std::size_t kMaxHandshakes = 16;
// Connections accepted per readiness of the listening socket, so a flood cannot keep the loop
// from the connections it already has.
constexpr int kAcceptsPerTurn = 16;
constexpr std::chrono::seconds kPeerWarningPeriod{10};
// Listening pauses this long when accept4 fails for want of resources (EMFILE, ENOBUFS...):
// the pending connection keeps the socket readable, and polling it would spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr unsigned kConnectStepTimeoutMs = 1000;  // each of ei's steps; the whole is LocalNode::connect_timeout

// A challenge nobody can predict, or none: a connection is refused rather than given a
// guessable one (getrandom on 4 bytes fails only before the pool is initialised).
std::optional<std::uint32_t> random_challenge() {
  std::uint32_t c = 0;
  if (::getrandom(&c, sizeof c, GRND_NONBLOCK) != sizeof c) return std::nullopt;
  return c;
}

}  // namespace

void Agent::on_listen_ready() {
  for (int i = 0; i < kAcceptsPerTurn; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(cnode_.listen_fd(), reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      warn("accept", system_error("accept", errno).message + "; not listening for " +
                              std::to_string(kAcceptBackoff.count()) + " ms");
      listen_paused_until_ = clock::Monotonic::now() + kAcceptBackoff;
      return;
    }
    // --allow-from, on the address accept4 read off the accepted socket (getpeername's), before
    // a byte of it is read and before it may evict a handshake: a refused peer costs nothing
    // but this close.
    if (!access::peer_allowed(addr, len, opts_.allow_from)) {
      ::close(fd);
      ++refused_peers_;
      const auto peer = access::peer_address(addr, len);
      const auto from = peer ? peer->to_string() : std::string("an unreadable address");
      warn("allow_from", "refused a connection from " + from + ": not inside any --allow-from (" +
                             std::to_string(refused_peers_) + " refused so far)");
      continue;
    }
    const auto challenge = random_challenge();
    if (!challenge) {
      ::close(fd);
      warn("challenge", "no random challenge (getrandom failed), refusing a connection");
      continue;
    }
    // Full: the oldest handshake goes, not the new one. Silent clients renewing themselves
    // could otherwise hold every slot and keep real nodes out; a real handshake takes
    // milliseconds, so evicting the oldest leaves it its chance.
    if (handshaking() >= kMaxHandshakes) evict_oldest_handshake();
    cnode::Identity us{cnode_.name(), cnode_.ec()->ei_connect_cookie, cnode_.ec()->creation};
    auto stream = cnode::Stream::accepted(fd, cnode::AcceptHandshake(std::move(us), *challenge),
                                          clock::Monotonic::now() + kHandshakeDeadline);
    conns_.emplace(fd, std::move(stream));
  }
}

void Agent::evict_oldest_handshake() {
  int oldest = -1;
  for (const auto& [fd, s] : conns_)
    if (!s->open() && (oldest < 0 || s->deadline() < conns_.at(oldest)->deadline())) oldest = fd;
  if (oldest >= 0)
    refuse_handshake(oldest, "evicted: " + std::to_string(kMaxHandshakes) + " connections already in handshake");
}

std::size_t Agent::handshaking() const {
  std::size_t n = 0;
  for (const auto& [fd, s] : conns_) n += s->open() ? 0 : 1;
  return n;
}

void Agent::on_connection_ready(int fd, short revents) {
  auto* conn = conns_.at(fd).get();
  if ((revents & POLLOUT) != 0)
    if (auto s = conn->on_writable(); !s) return drop_connection(fd, s.error().message);
  if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
  const bool was_open = conn->open();
  auto got = conn->on_readable();
  if (!got) return was_open ? drop_connection(fd, got.error().message) : refuse_handshake(fd, got.error().message);
  if (!was_open && conn->open()) adopt(fd);
  for (const auto& m : *got) {
    // Handling a message may drop connections, this one included.
    auto it = conns_.find(fd);
    if (it == conns_.end() || it->second.get() != conn) return;
    on_message(*conn, m);
  }
}

void Agent::refuse_handshake(int fd, const std::string& why) {
  const auto& conn = *conns_.at(fd);
  const auto from = conn.peer_address() ? conn.peer_address()->to_string() : std::string("?");
  if (auto held = handshake_warnings_.allow(clock::Monotonic::now()))
    spdlog::warn("dropped a connection from {} in handshake: {} ({} similar held back)", from,
                 ei::log_text(ei::binary(why)), *held);
  conns_.erase(fd);
}

void Agent::expire_handshakes(clock::Monotonic::time_point now) {
  std::vector<int> late;
  for (const auto& [fd, s] : conns_)
    if (!s->open() && s->deadline() <= now) late.push_back(fd);
  for (int fd : late) refuse_handshake(fd, "not done within its deadline");
}

// A connection whose handshake completed, or that a Dialer made (`dialed`).
void Agent::adopt(int fd, bool dialed) {
  auto* conn = conns_.at(fd).get();
  // A node that reconnects before we noticed its old connection die replaces it.
  for (auto& [other, old] : conns_)
    if (other != fd && old->open() && old->node() == conn->node()) {
      drop_connection(other, "replaced by a new connection");
      break;
    }
  spdlog::debug("connection from {} open", conn->node());
  requests_.opened(fd, conn->node(), conn->peer_address(), dialed);
  joiner_.opened(fd, conn->node());
}

void Agent::drop_connection(int fd, const std::string& why) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (!it->second->open()) return refuse_handshake(fd, why);  // its claimed name proves nothing
  const std::string node = it->second->node();
  conns_.erase(it);
  requests_.closed(fd);  // its faults heal: they are owned like links
  if (joiner_.lost(fd, why))
    node_commands_lost(node, why);  // its watcher is gone, and its commands not yet reported
  else
    spdlog::info("connection from {} closed: {}", node, why);
}

cnode::Stream* Agent::connection_to(const std::string& node) {
  for (auto& [fd, conn] : conns_)
    if (conn->open() && conn->node() == node) return conn.get();
  return nullptr;
}

// What arrives on an open connection, to whom it concerns.
void Agent::on_message(cnode::Stream& conn, const cnode::Message& msg) {
  if (msg.payload.empty()) {
    // links, monitors (gen_server:call monitors us), exits: nothing to do for a C-node
    spdlog::debug("control message {} from {}, ignoring", msg.op, conn.node());
    return;
  }
  auto term = ei::decode(msg.payload.data(), msg.payload.size());
  if (!term) {
    warn("undecodable", "undecodable message from " + conn.node() + ": " + term.error().message + ", dropping");
    return;
  }
  if (!msg.from) {  // SEND to our pid: only RPC replies are expected
    const auto* rex = term->tuple_of(2);
    if (rex != nullptr && (*rex)[0].is_atom("rex") && joiner_.on_rex(conn.fd(), (*rex)[1])) return;
    warn("unexpected", "unexpected message from " + conn.node() + ": " + ei::log_text(*term) + ", dropping");
    return;
  }
  const std::string& to = msg.to_name;
  if (to == agent_registered_name && watcher::is_fault_report(*term)) return on_fault_report(conn, *term);
  if (to == agent_registered_name && watcher::is_watcher_message(*term)) {
    // Only a local node's own watcher, on that node's connection (installing or joined), may
    // report what that node saw.
    auto e = watcher::to_event(*term);
    const auto* n = joiner_.node_on(conn.fd());
    if (e && n != nullptr && watcher::observer_of(*term) == n->name) {
      if (e->type == "log") {
        auto* dropped = e->field("dropped");
        std::int64_t count = dropped != nullptr && dropped->as<std::int64_t>() != nullptr ? *dropped->as<std::int64_t>() : 0;
        if (!log_limit_.admit(n->name, clock::Monotonic::now(), count)) return;
        for (auto& [k, v] : e->fields)
          if (k == "dropped") v = ei::Term(count);
      }
      return record(std::move(e).value());
    }
    warn("watcher", "bad watcher message from " + conn.node() + ": " + ei::log_text(*term) + ", dropping");
    return;
  }
  if ((to == agent_registered_name || to == "net_kernel") && proto::is_gen_call(*term))
    return requests_.on_call(conn.fd(), to, *term);
  warn(to == agent_registered_name ? "not_a_call" : "unserved_name",
       "message from " + conn.node() + " to '" + ei::log_text(ei::atom(to)) +
           "' that this agent does not serve: " + ei::log_text(*term) + ", dropping");
}

// One throttle per kind of warning (a fixed set, named in the code), so one flood does not
// hide the first warning of another kind.
void Agent::warn(const char* kind, const std::string& text) {
  auto& throttle = peer_warnings_.try_emplace(kind, kPeerWarningPeriod).first->second;
  if (auto held = throttle.allow(clock::Monotonic::now())) {
    if (*held > 0)
      spdlog::warn("{} ({} similar warnings held back)", text, *held);
    else
      spdlog::warn("{}", text);
  }
}

void Agent::answer(const Caller& caller, ei::Term reply) {
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
    auto small = ei::encode(proto::gen_reply_term(caller.tag, ei::error_tuple(ei::atom("reply_too_large"))));
    if (small) sent = target->send(caller.from, *small);
  }
  if (!sent) drop_connection(target->fd(), sent.error().message);
}

void Agent::post(EngineThread::Work work, EngineThread::Done done) { engine_->post(std::move(work), std::move(done)); }

proto::AgentStatus Agent::status() const {
  proto::AgentStatus s;
  s.agent = opts_.name;
  for (const auto& n : joiner_.nodes()) {
    s.nodes.push_back({n.name, n.state == LocalNode::State::ready});
    if (!s.net_ticktime_ms && n.net_ticktime_ms) {
      s.net_ticktime_ms = n.net_ticktime_ms;
      s.tick_intensity = n.tick_intensity;
    }
  }
  s.backend = backend_ ? backend_->name() : "none";
  s.version = version;
  for (const auto& c : opts_.exempt) s.exempt.push_back(c.to_string());
  s.max_fault_ms = opts_.max_fault_ms;
  s.events = log_.status();
  for (const auto& st : stresses_.status(clock::unix_us())) s.faults.push_back(proto::to_term(st));  // the loop's
  return s;
}

std::unique_ptr<NodeJoiner::Dial> Agent::dial(const std::string& node) {
  struct Dialing final : NodeJoiner::Dial {
    cnode::Dialer dialer;
    Dialing(const ei_cnode& ec, const std::string& node) : dialer(ec, node, kConnectStepTimeoutMs) {}
    [[nodiscard]] int event_fd() const override { return dialer.event_fd(); }
    Result<int> take() override { return dialer.take(); }
  };
  return std::make_unique<Dialing>(*cnode_.ec(), node);
}

void Agent::connected(int fd, const std::string& node) {
  conns_.emplace(fd, cnode::Stream::connected(fd, node));
  adopt(fd, true);
}

void Agent::discard(int fd) { ei_close_connection(fd); }

void Agent::rpc(int fd, const watcher::Call& call) {
  // What ei_rpc_to sends: {Self, {call, Mod, Fun, Args, user}} to rex; the reply comes to
  // Self as {rex, Reply}.
  const auto self = cnode_.self();
  auto msg = ei::encode(ei::tuple(
      {ei::Term(self), ei::tuple({ei::atom("call"), ei::atom(call.mod), ei::atom(call.fun), call.args, ei::atom("user")})}));
  if (!msg) return drop_connection(fd, msg.error().message);
  if (auto s = conns_.at(fd)->reg_send(self, "rex", *msg); !s) drop_connection(fd, s.error().message);
}

std::variant<fault::NodeProcess, proto::Refusal> Agent::local_process(const std::string& node) const {
  using K = proto::Refusal::Kind;
  const auto& nodes = joiner_.nodes();
  const auto n = std::find_if(nodes.begin(), nodes.end(), [&](const LocalNode& l) { return l.name == node; });
  if (n == nodes.end()) return proto::Refusal{K::not_local_node, node, {}, 0, 0};
  if (n->state != LocalNode::State::ready) return proto::Refusal{K::node_not_joined, node, {}, 0, 0};
  if (const auto why = unpausable_.find(node); why != unpausable_.end())
    return proto::Refusal{K::cannot_pause, node, why->second, 0, 0};
  const auto p = processes_.find(node);
  // The process is the one its watcher reported this time.
  if (!n->os_pid || p == processes_.end() || p->second.pid != *n->os_pid)
    return proto::Refusal{K::node_not_joined, node, {}, 0, 0};
  return p->second;
}

void Agent::joined(const LocalNode& node) {
  // The node said its pid just now over its live connection: the pidfd taken at once is its
  // process, and signals through it can never reach another that reuses the number.
  processes_.erase(node.name);
  unpausable_.erase(node.name);
  const auto unpausable = [&](std::string why) {
    spdlog::warn("{} cannot be paused: {}", node.name, why);
    unpausable_[node.name] = std::move(why);
  };
  if (!node.os_pid) {
    unpausable("its watcher did not say its OS pid");
  } else {
    // The pidfd first, then the checks: they are then about the process the pidfd holds (a
    // pid reused in between fails them, or the pidfd's own check below).
    const auto pid = static_cast<pid_t>(*node.os_pid);
    auto pidfd = pause::open_pidfd(pid);
    const auto stat = pause::read_proc_stat(pid);
    if (!pidfd) {
      unpausable(pidfd.error().message);
    } else if (auto why = pause::not_a_local_beam(pid)) {
      unpausable(*why);
    } else if (!stat || pause::pidfd_pid(pidfd->get()) != pid) {
      unpausable("process " + std::to_string(pid) + " is gone");
    } else {
      processes_[node.name] = fault::NodeProcess{pid, std::make_shared<const Fd>(std::move(*pidfd)), stat->start_ticks};
    }
  }
  engine_->post([ms = 2 * *node.net_ticktime_ms](fault::Engine& e, fault::Output&) {
    e.set_recovery_timeout_ms(ms);  // recovered, or 2 x T (docs/protocol.md, fault_recovered)
    return ei::atom("ok");
  });
}

// The one place a fault is logged: its events (the fan-out logs each) and the kernel errors the
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

}  // namespace ticksplit::agent
