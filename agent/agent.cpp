#include "agent/agent.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <spdlog/spdlog.h>
#include <csignal>

#include "agent/safety.hpp"
#include "common/net/resolve.hpp"

namespace ticksplit::agent {

namespace {

constexpr auto kRepublishDelay = std::chrono::seconds(1);
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

// A challenge nobody can predict, or none: a connection is refused rather than given a
// guessable one (getrandom on 4 bytes fails only before the pool is initialised).
std::optional<std::uint32_t> random_challenge() {
  std::uint32_t c = 0;
  if (::getrandom(&c, sizeof c, GRND_NONBLOCK) != sizeof c) return std::nullopt;
  return c;
}

Fd make_signalfd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw ConfigError(system_error("sigprocmask", errno).message);
  Fd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) throw ConfigError(system_error("signalfd", errno).message);
  return fd;
}

Fd make_timerfd() {
  Fd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) throw ConfigError(system_error("timerfd_create", errno).message);
  return fd;
}

fault::Policy policy_or_throw(const Options& o) {
  auto p = make_policy(o, system_addresses());
  if (!p) throw ConfigError(p.error().message + "; refusing to start: no fault could be kept off this host");
  return std::move(p).value();
}

}  // namespace

Agent::Agent(Options options)
    : opts_(std::move(options)),
      log_(opts_.event_log_size),
      ledger_(opts_.state_dir.empty() ? "" : opts_.state_dir + "/" + opts_.name + ".faults.json"),
      leftovers_reported_(report_leftovers()),
      backend_(std::make_unique<fault::KernelBackend>(opts_.interfaces)),
      ledger_reset_(ledger_.write({}).ok()),  // what it listed is gone with the dead agent's filters
      engine_(std::make_unique<EngineThread>(std::make_unique<fault::Engine>(*backend_, policy_or_throw(opts_)),
                                             ledger_)),
      cnode_(opts_.name, opts_.cookie),
      timer_(make_timerfd()),
      signals_(make_signalfd()) {
  // The handshake's digests: a libcrypto that refuses MD5 (FIPS) would make every handshake
  // fail, or worse if unchecked; say so now.
  if (!cnode::handshake_digest("", 0))
    throw ConfigError("libcrypto refuses MD5 (FIPS mode?); the distribution handshake needs it");
  // ei writes tick answers to sockets the peer may have closed; that must not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  // Accepting must never wait: readiness can vanish (a client that reset) before accept4.
  if (const int fl = ::fcntl(cnode_.listen_fd(), F_GETFL); fl < 0 || ::fcntl(cnode_.listen_fd(), F_SETFL, fl | O_NONBLOCK) < 0)
    throw ConfigError(system_error("making the listening socket non-blocking", errno).message);
  if (auto s = cnode_.publish(); !s) throw ConfigError(s.error().message);
  for (const auto& n : opts_.nodes) locals_.emplace_back(n);
  spdlog::info("agent {} listening on port {}, registered with epmd", opts_.name, cnode_.port());
}

int Agent::run() {
  for (auto& n : locals_) attempt_join(n);
  while (!stop_) {
    arm_timer();
    auto fds = poll_set();
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("poll failed: {}", std::strerror(errno));
      break;
    }
    for (const auto& p : fds) {
      if (p.revents == 0 || stop_) continue;
      if (p.fd == signals_.get()) {
        signalfd_siginfo si{};
        if (::read(signals_.get(), &si, sizeof si) == sizeof si)
          spdlog::info("received {}, shutting down", strsignal(static_cast<int>(si.ssi_signo)));
        stop_ = true;
      } else if (p.fd == timer_.get()) {
        on_timer();
      } else if (p.fd == cnode_.listen_fd()) {
        on_listen_ready();
      } else if (p.fd == cnode_.epmd_fd()) {
        on_epmd_ready();
      } else if (conns_.count(p.fd)) {
        on_connection_ready(p.fd, p.revents);
      } else if (p.fd == engine_->event_fd()) {
        engine_->deliver([this](fault::Output events) { record(std::move(events)); });
      } else {
        for (auto& [node, d] : dials_)
          if (d->event_fd() == p.fd) {
            on_dialed(node);  // erases the dialer
            break;
          }
        for (auto& [fd, l] : lookups_)
          if (l.lookup->event_fd() == p.fd) {
            on_lookup_done(fd);  // erases the lookup
            break;
          }
      }
    }
  }
  shutdown();
  return 0;
}

// Faults an earlier agent of this name recorded and did not heal (it was killed): the kernel
// would end them on time, but attaching our filters removes its, which ends them now. Said
// here, in the log and as events, before the backend removes anything.
bool Agent::report_leftovers() {
  if (!opts_.state_dir.empty() && ::mkdir(opts_.state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw ConfigError(system_error("creating the state directory " + opts_.state_dir, errno).message);
  // First the lock: a second agent of this name must not report the live one's faults.
  if (auto locked = ledger_.lock(); !locked) throw ConfigError(locked.error().message);
  auto left = ledger_.read();
  if (!left) {
    spdlog::warn("{}; what an earlier agent left cannot be reported", left.error().message);
    return false;
  }
  const auto now = clock::unix_us();
  for (const auto& p : *left) {
    if (p.end_us <= now) continue;  // over already: the kernel ended it on time
    const bool started = p.start_us <= now;
    spdlog::warn("an earlier agent {} left fault {} (owner {}, {} {} us, planned end {} us); removing its filters {}",
                 opts_.name, ei::log_text(ei::binary(p.id)), ei::log_text(ei::atom(p.owner)),
                 started ? "started" : "due to start", p.start_us, p.end_us, started ? "ends it now" : "cancels it");
    std::vector<ei::Term> peers;
    for (const auto& peer : p.peers) peers.push_back(ei::binary(peer));
    const auto& e = log_.append({0,
                                 "fault_orphaned",
                                 now,
                                 {{"id", ei::binary(p.id)},
                                  {"owner", ei::atom(p.owner)},
                                  {"peers", ei::list(std::move(peers))},
                                  {"reason", ei::atom("agent_restarted")},
                                  {"started", ei::atom(started ? "true" : "false")},
                                  {"start_us", p.start_us},
                                  {"planned_end_us", p.end_us},
                                  {"end_us", now}}});
    spdlog::info("event {}", ei::log_text(proto::to_term(e)));
  }
  return true;
}

std::vector<pollfd> Agent::poll_set() const {
  std::vector<pollfd> fds;
  fds.push_back({signals_.get(), POLLIN, 0});
  fds.push_back({timer_.get(), POLLIN, 0});
  fds.push_back({engine_->event_fd(), POLLIN, 0});
  if (listen_paused_until_ <= clock::Monotonic::now()) fds.push_back({cnode_.listen_fd(), POLLIN, 0});
  if (cnode_.published()) fds.push_back({cnode_.epmd_fd(), POLLIN, 0});
  for (const auto& [fd, conn] : conns_) fds.push_back({fd, conn->poll_events(), 0});
  for (const auto& [node, d] : dials_) fds.push_back({d->event_fd(), POLLIN, 0});
  for (const auto& [fd, l] : lookups_) fds.push_back({l.lookup->event_fd(), POLLIN, 0});
  return fds;
}

void Agent::on_listen_ready() {
  for (int i = 0; i < kAcceptsPerTurn; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(cnode_.listen_fd(), reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      warn_peer("accept", system_error("accept", errno).message + "; not listening for " +
                              std::to_string(kAcceptBackoff.count()) + " ms");
      listen_paused_until_ = clock::Monotonic::now() + kAcceptBackoff;
      return;
    }
    const auto challenge = random_challenge();
    if (!challenge) {
      ::close(fd);
      warn_peer("challenge", "no random challenge (getrandom failed), refusing a connection");
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

// After the registration reply epmd stays silent, so readable means either leftover reply
// bytes that ei did not consume (seen with OTP 25: two bytes), which we discard, or EOF:
// epmd died or restarted and we are no longer registered. Then register again shortly.
void Agent::on_epmd_ready() {
  char buf[64];
  const auto n = ::recv(cnode_.epmd_fd(), buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) return;
  spdlog::warn("epmd closed our registration; registering again in {}s", kRepublishDelay.count());
  cnode_.unpublish();
  republish_at_ = clock::Monotonic::now() + kRepublishDelay;
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

// One throttle per kind of warning (a fixed set, named in the code), so one flood does not
// hide the first warning of another kind.
void Agent::warn_peer(const char* kind, const std::string& text) {
  auto& throttle = peer_warnings_.try_emplace(kind, kPeerWarningPeriod).first->second;
  if (auto held = throttle.allow(clock::Monotonic::now())) {
    if (*held > 0)
      spdlog::warn("{} ({} similar warnings held back)", text, *held);
    else
      spdlog::warn("{}", text);
  }
}

void Agent::on_timer() {
  std::uint64_t expirations = 0;
  [[maybe_unused]] auto r = ::read(timer_.get(), &expirations, sizeof expirations);
  const auto now = clock::Monotonic::now();
  expire_handshakes(now);
  expire_lookups(now);
  for (auto& n : locals_) {
    if (n.deadline > now) continue;
    if (n.state == LocalNode::State::down) {
      attempt_join(n);
    } else if (n.state == LocalNode::State::connecting) {
      dials_.erase(n.name);  // its thread closes what it may still connect
      node_failed(n, "connecting timed out");
    } else if (n.state == LocalNode::State::installing) {
      drop_connection(n.fd, "watcher install timed out");
    }
  }
  if (!cnode_.published() && republish_at_ <= now) {
    if (auto s = cnode_.publish(); !s) {
      spdlog::warn("{}; retrying in {}s", s.error().message, kRepublishDelay.count());
      republish_at_ = now + kRepublishDelay;
    } else {
      spdlog::info("registered with epmd again");
    }
  }
}

// One timer for every deadline: the earliest of node retries, RPC timeouts, handshakes,
// lookups and epmd. (The engine keeps its own deadlines on its thread.)
void Agent::arm_timer() {
  std::optional<clock::Monotonic::time_point> next;
  const auto consider = [&](clock::Monotonic::time_point t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& n : locals_)
    if (n.state != LocalNode::State::ready) consider(n.deadline);
  if (!cnode_.published()) consider(republish_at_);
  if (listen_paused_until_ > clock::Monotonic::now()) consider(listen_paused_until_);
  for (const auto& [fd, c] : conns_)
    if (!c->open()) consider(c->deadline());
  for (const auto& [fd, l] : lookups_)
    if (!l.waited_out) consider(l.deadline);
  itimerspec spec{};
  if (next) {
    const auto ns = std::max<std::int64_t>(1, next->time_since_epoch().count());
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

// A connection whose handshake completed, or that a Dialer made.
void Agent::adopt(int fd) {
  auto* conn = conns_.at(fd).get();
  // A node that reconnects before we noticed its old connection die replaces it.
  for (auto& [other, old] : conns_)
    if (other != fd && old->open() && old->node() == conn->node()) {
      drop_connection(other, "replaced by a new connection");
      break;
    }
  spdlog::debug("connection from {} open", conn->node());
  start_requester_lookup(fd);
  auto* n = local_by_name(conn->node());
  if (n == nullptr || (n->state != LocalNode::State::down && n->state != LocalNode::State::connecting)) return;
  dials_.erase(n->name);  // it reached us first
  n->fd = fd;
  start_install(*n);
}

void Agent::drop_connection(int fd, const std::string& why) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (!it->second->open()) return refuse_handshake(fd, why);  // its claimed name proves nothing
  const std::string node = it->second->node();
  conns_.erase(it);
  requesters_.erase(fd);
  lookups_.erase(fd);
  deferred_.erase(fd);
  if (auto dropped = subscribers_.remove_node(node); dropped > 0)
    spdlog::info("{} subscriber(s) on {} removed: connection gone", dropped, node);
  // Faults are owned like links: their requester gone, they heal. Its partition still waiting
  // for a lookup went with lookups_; one already posted is applied first (the engine takes
  // work in order), then healed here.
  engine_->post([node](fault::Engine& e, fault::Output& out) {
    return ei::Term(static_cast<std::int64_t>(e.heal_owner(node, out)));
  },
                [node](ei::Term healed) {
                  if (const auto* n = healed.as<std::int64_t>(); n != nullptr && *n > 0)
                    spdlog::info("{} fault(s) of {} healed: connection gone", *n, node);
                });
  if (auto* n = local_by_fd(fd))
    node_failed(*n, why);
  else
    spdlog::info("connection from {} closed: {}", node, why);
}

// What a connection's faults must spare, found when it opens and never on a request. An
// address literal needs no resolver; a host name is looked up on a thread, and the calls that
// arrive meanwhile wait (in order, at most kMaxDeferred) instead of the loop.
void Agent::start_requester_lookup(int fd) {
  const auto& conn = *conns_.at(fd);
  const auto host = net::node_host(conn.node());
  if (net::parse_cidr(host)) {
    requesters_.insert_or_assign(fd, requester_addresses(conn.node(), conn.peer_address(), system_addresses()));
    return;
  }
  try {
    lookups_.insert_or_assign(fd, PendingLookup{std::make_unique<net::Lookup>(std::vector{host}),
                                                clock::Monotonic::now() + kLookupDeadline, {host}, std::nullopt});
  } catch (const std::exception& e) {  // fail closed: no addresses, its partitions refused
    requesters_.insert_or_assign(fd, Error{Domain::system, 0, std::string("cannot start resolving: ") + e.what()});
  }
}

void Agent::on_lookup_done(int fd) {
  auto found = lookups_.at(fd).lookup->take();
  if (!found) return;  // readiness of a closed fd whose number the lookup took: still at work
  resolved(fd, *found);
}

// A partition's lookup past its deadline is abandoned (its thread ends when the resolver gives
// up): the names it has not resolved count as unresolvable. A requester's goes on, but its
// calls stop waiting: they are answered, its partitions refused until its host is known.
void Agent::expire_lookups(clock::Monotonic::time_point now) {
  std::vector<int> late;
  for (const auto& [fd, l] : lookups_)
    if (!l.waited_out && l.deadline <= now) late.push_back(fd);
  for (int fd : late) {
    auto it = lookups_.find(fd);  // an earlier one's replayed calls may have dropped this connection
    if (it == lookups_.end()) continue;
    auto& pending = it->second;
    warn_peer("lookup", "looking up " + ei::log_text(ei::binary(pending.names.front())) +
                            (pending.names.size() > 1 ? " and others" : "") + " took more than " +
                            std::to_string(kLookupDeadline.count()) + " s");
    if (!pending.partition) {
      pending.waited_out = true;
      replay_deferred(fd);
      continue;
    }
    auto found = pending.lookup->so_far();
    for (const auto& name : pending.names)
      found.try_emplace(name, Error{Domain::system, ETIMEDOUT,
                                    "no answer from the resolver within " +
                                        std::to_string(kLookupDeadline.count()) + " s"});
    resolved(fd, found);
  }
}

// What a lookup found: the connection's own addresses, or its partition's peers. Then the
// calls that waited for it, in order.
void Agent::resolved(int fd, const net::Resolved& found) {
  auto pending = std::move(lookups_.at(fd));
  lookups_.erase(fd);
  const auto& conn = *conns_.at(fd);
  if (pending.partition) {
    arm(pending.partition->request, std::move(pending.partition->spared), pending.partition->caller, found);
  } else {
    const auto host_of = [&found](const std::string& host) -> Result<std::vector<net::Cidr>> {
      return found.at(host);
    };
    requesters_.insert_or_assign(fd, requester_addresses(conn.node(), conn.peer_address(), {nullptr, host_of}));
  }
  replay_deferred(fd);
}

// A partition among them may start a lookup of its own: on_gen_call then defers the rest
// again, in order.
void Agent::replay_deferred(int fd) {
  auto calls = std::move(deferred_[fd]);
  deferred_.erase(fd);
  for (auto& [to, msg] : calls) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;  // a reply could not be sent: the connection is gone
    on_gen_call(*it->second, to, msg);
  }
}

cnode::Stream* Agent::connection_to(const std::string& node) {
  for (auto& [fd, conn] : conns_)
    if (conn->open() && conn->node() == node) return conn.get();
  return nullptr;
}

void Agent::shutdown() {
  // Closing the epmd socket is what unregisters the name; do it first so nobody new
  // finds us while we close the rest.
  cnode_.unpublish();
  // What was posted is done first, then every fault is healed.
  engine_->stop([](fault::Engine& e, fault::Output& out) {
    return ei::Term(static_cast<std::int64_t>(e.heal_all(fault::HealReason::shutdown, out)));
  },
                [](ei::Term healed) {
                  if (const auto* n = healed.as<std::int64_t>(); n != nullptr && *n > 0)
                    spdlog::info("{} fault(s) healed on shutdown", *n);
                });
  engine_->deliver([this](fault::Output events) { record(std::move(events)); });
  ledger_.remove();
  engine_.reset();
  backend_.reset();  // removes the filters (and the clsact qdisc if we made it)
  // Replies and events still queued get one last chance to leave.
  for (auto& [fd, conn] : conns_) (void)conn->on_writable();
  conns_.clear();
  dials_.clear();
  spdlog::info("agent {} stopped", opts_.name);
}

}  // namespace ticksplit::agent
