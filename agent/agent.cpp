#include "agent/agent.hpp"

#include "agent/pause/guard.hpp"
#include "agent/pause/left.hpp"
#include "agent/pause/pidfd.hpp"
#include "agent/pause/proc_stat.hpp"

#include <fcntl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <spdlog/spdlog.h>
#include <csignal>

#include "agent/safety.hpp"
#include "common/signal_fd.hpp"
#include "common/net/resolve.hpp"

namespace ticksplit::agent {

namespace {

constexpr auto kRepublishDelay = std::chrono::seconds(1);

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

// The engine, with kill_node faults through `kills` and the --node-start commands.
std::unique_ptr<fault::Engine> with_kills(std::unique_ptr<fault::Engine> engine, fault::KillGuards& kills,
                                          const Options& o) {
  engine->enable_kills(kills, o.node_start);
  return engine;
}

// The map, the programs and the filters are in place: keep only what the agent still uses
// (agent/privileges.hpp). Failing to drop is a start-up error: the agent does not run with more
// than it says.
privileges::Sets drop_privileges() {
  auto before = privileges::current();
  if (!before) throw ConfigError(before.error().message + "; cannot drop capabilities");
  auto after = privileges::drop_unneeded();
  if (!after) throw ConfigError(after.error().message + "; cannot drop capabilities");
  spdlog::info("running with capabilities {} (dropped {})", privileges::names(after->effective),
               privileges::names(before->permitted & ~after->permitted));
  return *after;
}

}  // namespace

Agent::Agent(Options options)
    : opts_(std::move(options)),
      log_(opts_.event_log_size),
      ledger_(opts_.state_dir.empty() ? "" : opts_.state_dir + "/" + opts_.name + ".faults.json"),
      leftovers_reported_(report_leftovers()),
      backend_(std::make_unique<fault::KernelBackend>(opts_.interfaces)),
      ledger_reset_(ledger_.write({}).ok()),  // what it listed is gone with the dead agent's filters
      capabilities_(drop_privileges()),
      engine_(std::make_unique<EngineThread>(
          with_kills(std::make_unique<fault::Engine>(*backend_, policy_or_throw(opts_), &guards_), kill_guards_, opts_),
          ledger_)),
      cnode_(opts_.name, opts_.cookie, opts_.listen),
      timer_(make_timerfd()),
      signals_(termination_signal_fd()) {
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
  spdlog::info("agent {} listening on {} port {}, registered with epmd", opts_.name,
               opts_.listen ? opts_.listen->to_string() : std::string("every address"), cnode_.port());
  if (!opts_.allow_from.empty() || !opts_.allow.empty())
    spdlog::info("access: --allow-from {} block(s), --allow {} pattern(s) (none given: no limit)",
                 opts_.allow_from.size(), opts_.allow.size());
}

int Agent::run() {
  joiner_.start();
  while (!stop_) {
    arm_timer();
    auto fds = poll_set();
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("poll failed: {}", std::strerror(errno));
      break;
    }
    for (const auto& p : fds)
      if (p.revents != 0 && !stop_) on_ready(p.fd, p.revents);
  }
  shutdown();
  return 0;
}

// The loop only dispatches: each readable fd to whoever owns it.
void Agent::on_ready(int fd, short revents) {
  if (fd == signals_.get()) {
    signalfd_siginfo si{};
    if (::read(signals_.get(), &si, sizeof si) == sizeof si)
      spdlog::info("received {}, shutting down", strsignal(static_cast<int>(si.ssi_signo)));
    stop_ = true;
  } else if (fd == timer_.get()) {
    on_timer();
  } else if (fd == cnode_.listen_fd()) {
    on_listen_ready();
  } else if (fd == cnode_.epmd_fd()) {
    on_epmd_ready();
  } else if (conns_.count(fd)) {
    on_connection_ready(fd, revents);
  } else if (fd == engine_->event_fd()) {
    engine_->deliver([this](fault::Output events) { record(std::move(events)); });
  } else {
    for (const auto& [event_fd, node] : joiner_.dial_fds())
      if (event_fd == fd) return joiner_.on_dial_ready(node);  // ends the dial
    for (const auto& [event_fd, conn] : requests_.lookup_fds())
      if (event_fd == fd) return requests_.on_lookup_ready(conn);  // ends the lookup
  }
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
    if (p.paused) {
      resume_left(p, now);
      continue;
    }
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

// A pause an earlier agent left: its guard, if still there, is told to end it (SIGTERM: it
// resumes at once and exits) and given 200 ms to; a node still stopped after that (its guard
// died with that agent) is resumed here (agent/pause/left.hpp).
void Agent::resume_left(const fault::Planned& p, std::int64_t now) {
  const auto& left = *p.paused;
  const auto [guard_ended, resumed] = pause::end_left_pause(left);
  if (!resumed && !guard_ended && p.end_us <= now) return;  // over, nothing left: the guard did its work
  spdlog::warn("an earlier agent {} left pause {} of {} (pid {}, owner {}, planned end {} us){}{}", opts_.name,
               ei::log_text(ei::binary(p.id)), left.node, left.pid, ei::log_text(ei::atom(p.owner)), p.end_us,
               guard_ended ? "; its guard was told to end it" : "",
               resumed ? "; the node was still stopped: resumed it" : "");
  const auto& e = log_.append({0,
                               "pause_orphaned",
                               now,
                               {{"id", ei::binary(p.id)},
                                {"owner", ei::atom(p.owner)},
                                {"node", ei::atom(left.node)},
                                {"os_pid", left.pid},
                                {"reason", ei::atom("agent_restarted")},
                                {"resumed", ei::atom(resumed ? "true" : "false")},
                                {"planned_end_us", p.end_us},
                                {"end_us", now}}});
  spdlog::info("event {}", ei::log_text(proto::to_term(e)));
}

std::vector<pollfd> Agent::poll_set() const {
  std::vector<pollfd> fds;
  fds.push_back({signals_.get(), POLLIN, 0});
  fds.push_back({timer_.get(), POLLIN, 0});
  fds.push_back({engine_->event_fd(), POLLIN, 0});
  if (listen_paused_until_ <= clock::Monotonic::now()) fds.push_back({cnode_.listen_fd(), POLLIN, 0});
  if (cnode_.published()) fds.push_back({cnode_.epmd_fd(), POLLIN, 0});
  for (const auto& [fd, conn] : conns_) fds.push_back({fd, conn->poll_events(), 0});
  for (const auto& [fd, node] : joiner_.dial_fds()) fds.push_back({fd, POLLIN, 0});
  for (const auto& [fd, conn] : requests_.lookup_fds()) fds.push_back({fd, POLLIN, 0});
  return fds;
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

void Agent::on_timer() {
  std::uint64_t expirations = 0;
  [[maybe_unused]] auto r = ::read(timer_.get(), &expirations, sizeof expirations);
  const auto now = clock::Monotonic::now();
  expire_handshakes(now);
  requests_.expire(now);
  joiner_.expire(now);
  expire_commands(now);
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
  if (auto t = joiner_.next_deadline()) consider(*t);
  if (!cnode_.published()) consider(republish_at_);
  if (listen_paused_until_ > clock::Monotonic::now()) consider(listen_paused_until_);
  for (const auto& [fd, c] : conns_)
    if (!c->open()) consider(c->deadline());
  if (auto t = requests_.next_deadline()) consider(*t);
  if (auto t = kills_.next_deadline()) consider(*t);
  if (auto t = stresses_.next_deadline()) consider(*t);
  itimerspec spec{};
  if (next) {
    const auto ns = std::max<std::int64_t>(1, next->time_since_epoch().count());
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
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
  // Kills not yet reported: their watchers exit with this agent (a kill not yet due with them).
  for (const auto& n : joiner_.nodes()) node_commands_lost(n.name, "the agent is stopping");
  ledger_.remove();
  engine_.reset();
  backend_.reset();  // removes the filters (and the clsact qdisc if we made it)
  // Replies and events still queued get one last chance to leave.
  for (auto& [fd, conn] : conns_) (void)conn->on_writable();
  conns_.clear();
  joiner_.stop();
  spdlog::info("agent {} stopped", opts_.name);
}

}  // namespace ticksplit::agent
