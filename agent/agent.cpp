#include "agent/agent.hpp"

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <spdlog/spdlog.h>
#include <csignal>

#include "common/net/resolve.hpp"

namespace ticksplit::agent {

namespace {

constexpr unsigned kAcceptTimeoutMs = 500;
constexpr unsigned kReceiveTimeoutMs = 500;
constexpr auto kRepublishDelay = std::chrono::seconds(1);

Fd make_signalfd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw ConfigError("cannot block SIGTERM/SIGINT");
  Fd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) throw ConfigError("cannot create a signalfd");
  return fd;
}

Fd make_timerfd() {
  Fd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) throw ConfigError("cannot create a timerfd");
  return fd;
}

fault::Policy make_policy(const Options& o) {
  fault::Policy p;
  p.exempt = o.exempt;
  p.max_fault_ms = o.max_fault_ms;
  p.local = net::local_addresses();
  for (const auto& n : o.nodes)
    if (auto found = net::resolve_host(net::node_host(n))) p.local.insert(p.local.end(), found->begin(), found->end());
  return p;
}

}  // namespace

Agent::Agent(Options options)
    : opts_(std::move(options)),
      backend_(std::make_unique<fault::KernelBackend>(opts_.interfaces)),
      engine_(std::make_unique<fault::Engine>(*backend_, make_policy(opts_))),
      cnode_(opts_.name, opts_.cookie),
      log_(opts_.event_log_size),
      timer_(make_timerfd()),
      signals_(make_signalfd()) {
  // ei writes tick answers to sockets the peer may have closed; that must not kill us.
  std::signal(SIGPIPE, SIG_IGN);
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
        on_connection_ready(p.fd);
      }
    }
  }
  shutdown();
  return 0;
}

std::vector<pollfd> Agent::poll_set() const {
  std::vector<pollfd> fds;
  fds.push_back({signals_.get(), POLLIN, 0});
  fds.push_back({timer_.get(), POLLIN, 0});
  fds.push_back({cnode_.listen_fd(), POLLIN, 0});
  if (cnode_.published()) fds.push_back({cnode_.epmd_fd(), POLLIN, 0});
  for (const auto& [fd, conn] : conns_) fds.push_back({fd, POLLIN, 0});
  return fds;
}

void Agent::on_listen_ready() {
  auto conn = cnode_.accept(kAcceptTimeoutMs);
  if (!conn) {
    spdlog::warn("{}, ignoring", conn.error().message);
    return;
  }
  spdlog::debug("accepted connection from {}", (*conn)->node());
  adopt(std::move(conn).value());
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

void Agent::on_connection_ready(int fd) {
  auto& conn = *conns_.at(fd);
  erlang_msg msg{};
  ei::XBuff payload;
  auto got = conn.receive(msg, payload, kReceiveTimeoutMs);
  if (!got) {
    drop_connection(fd, got.error().message);
    return;
  }
  if (*got == cnode::Connection::Got::message) on_message(conn, msg, payload);
}

void Agent::on_timer() {
  std::uint64_t expirations = 0;
  [[maybe_unused]] auto r = ::read(timer_.get(), &expirations, sizeof expirations);
  fault::Events events;
  engine_->tick(events);
  record(std::move(events));
  const auto now = clock::Monotonic::now();
  for (auto& n : locals_) {
    if (n.deadline > now) continue;
    if (n.state == LocalNode::State::down)
      attempt_join(n);
    else if (n.state == LocalNode::State::installing)
      drop_connection(n.fd, "watcher install timed out");
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

// One timer for every deadline: the earliest of node retries, RPC timeouts and epmd.
void Agent::arm_timer() {
  std::optional<clock::Monotonic::time_point> next;
  const auto consider = [&](clock::Monotonic::time_point t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& n : locals_)
    if (n.state != LocalNode::State::ready) consider(n.deadline);
  if (!cnode_.published()) consider(republish_at_);
  // steady_clock is CLOCK_MONOTONIC, the clock of the engine's windows
  if (auto due = engine_->next_due_ns()) consider(clock::Monotonic::time_point(std::chrono::nanoseconds(*due)));
  itimerspec spec{};
  if (next) {
    const auto ns = std::max<std::int64_t>(1, next->time_since_epoch().count());
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Agent::adopt(std::unique_ptr<cnode::Connection> conn) {
  // A node that reconnects before we noticed its old connection die replaces it.
  for (auto& [fd, old] : conns_)
    if (old->node() == conn->node()) {
      drop_connection(fd, "replaced by a new connection");
      break;
    }
  auto* raw = conn.get();
  conns_.emplace(raw->fd(), std::move(conn));
  if (auto* n = local_by_name(raw->node()); n != nullptr && n->state == LocalNode::State::down) {
    n->fd = raw->fd();
    start_install(*n);
  }
}

void Agent::drop_connection(int fd, const std::string& why) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  const std::string node = it->second->node();
  conns_.erase(it);
  if (auto dropped = subscribers_.remove_node(node); dropped > 0)
    spdlog::info("{} subscriber(s) on {} removed: connection gone", dropped, node);
  // Faults are owned like links: their requester gone, they heal.
  fault::Events events;
  if (auto healed = engine_->heal_owner(node, events); healed > 0)
    spdlog::info("{} fault(s) of {} healed: connection gone", healed, node);
  record(std::move(events));
  if (auto* n = local_by_fd(fd))
    node_failed(*n, why);
  else
    spdlog::debug("connection from {} closed: {}", node, why);
}

cnode::Connection* Agent::connection_to(const std::string& node) {
  for (auto& [fd, conn] : conns_)
    if (conn->node() == node) return conn.get();
  return nullptr;
}

void Agent::shutdown() {
  // Closing the epmd socket is what unregisters the name; do it first so nobody new
  // finds us while we close the rest.
  cnode_.unpublish();
  fault::Events events;
  if (auto healed = engine_->heal_all(fault::HealReason::shutdown, events); healed > 0)
    spdlog::info("{} fault(s) healed on shutdown", healed);
  record(std::move(events));
  engine_.reset();
  backend_.reset();  // removes the filters (and the clsact qdisc if we made it)
  conns_.clear();
  spdlog::info("agent {} stopped", opts_.name);
}

}  // namespace ticksplit::agent
