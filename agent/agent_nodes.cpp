// Joining local nodes: connect (on a Dialer's thread), ship and start the watcher, retry
// with backoff.
#include <spdlog/spdlog.h>

#include "agent/agent.hpp"
#include "agent/watcher.hpp"
#include "common/ei/encode.hpp"
#include "common/node_name.hpp"

namespace ticksplit::agent {

namespace {
constexpr unsigned kConnectStepTimeoutMs = 1000;  // each of ei's steps; the whole is LocalNode::connect_timeout
}

LocalNode* Agent::local_by_fd(int fd) {
  for (auto& n : locals_)
    if (n.state != LocalNode::State::down && n.fd == fd) return &n;
  return nullptr;
}

LocalNode* Agent::local_by_name(const std::string& name) {
  for (auto& n : locals_)
    if (n.name == name) return &n;
  return nullptr;
}

// A node that connects to us first is joined through adopt() instead.
void Agent::attempt_join(LocalNode& n) {
  try {
    dials_.insert_or_assign(n.name, std::make_unique<cnode::Dialer>(*cnode_.ec(), n.name, kConnectStepTimeoutMs));
  } catch (const std::exception& e) {  // no eventfd or no thread: a failed attempt, retried
    n.failed(clock::Monotonic::now());
    spdlog::warn("cannot start connecting to {}: {}; retrying with backoff", n.name, e.what());
    return;
  }
  n.state = LocalNode::State::connecting;
  n.deadline = clock::Monotonic::now() + LocalNode::connect_timeout;
}

void Agent::on_dialed(const std::string& name) {
  const std::string node = name;  // `name` may be the key erased below
  auto it = dials_.find(node);
  auto fd = it->second->take();
  // Readiness that was not the dialer's: a poll entry of a closed fd whose number this
  // dialer's eventfd took in the same turn. It is still at work.
  if (!fd && fd.error().code == EAGAIN) return;
  dials_.erase(it);
  auto* n = local_by_name(node);
  if (n == nullptr || n->state != LocalNode::State::connecting) {
    if (fd) ei_close_connection(*fd);  // it reached us first, or we gave up
    return;
  }
  if (!fd) {
    n->failed(clock::Monotonic::now());
    // Loud once per outage, quiet while retrying: a wrong cookie or a node that is not up
    // must be visible without filling the log every 2 s.
    if (n->failures == 1)
      spdlog::warn("{} (is the node up? does the cookie match?); retrying with backoff", fd.error().message);
    else
      spdlog::debug("{}; retrying", fd.error().message);
    return;
  }
  spdlog::debug("connected to {}", node);
  conns_.emplace(*fd, cnode::Stream::connected(*fd, node));
  adopt(*fd);  // starts the install through start_install
}

void Agent::start_install(LocalNode& n) {
  n.state = LocalNode::State::installing;
  n.step = watcher::Step::check_loaded;
  send_install_step(n);
}

void Agent::send_install_step(LocalNode& n) {
  const auto call = watcher::call_for(n.step, opts_.name, agent_registered_name);
  n.deadline = clock::Monotonic::now() + LocalNode::rpc_timeout;
  auto* conn = conns_.at(n.fd).get();
  // What ei_rpc_to sends: {Self, {call, Mod, Fun, Args, user}} to rex; the reply comes to
  // Self as {rex, Reply}.
  const auto self = cnode_.self();
  auto msg = ei::encode(ei::tuple(
      {ei::Term(self), ei::tuple({ei::atom("call"), ei::atom(call.mod), ei::atom(call.fun), call.args, ei::atom("user")})}));
  if (!msg) return drop_connection(n.fd, msg.error().message);
  if (auto s = conn->reg_send(self, "rex", *msg); !s) drop_connection(n.fd, s.error().message);
}

void Agent::on_rex(LocalNode& n, const ei::Term& reply) {
  if (n.state != LocalNode::State::installing) {
    spdlog::warn("unexpected rpc reply from {}: {}, ignoring", n.name, ei::log_text(reply));
    return;
  }
  auto next = watcher::on_reply(n.step, reply);
  if (!next) {
    spdlog::error("installing the watcher on {}: {}", n.name, next.error().message);
    drop_connection(n.fd, "watcher install failed");
    return;
  }
  if (next->step) {
    n.step = *next->step;
    send_install_step(n);
    return;
  }
  n.net_ticktime_ms = next->started->net_ticktime_ms;
  n.tick_intensity = next->started->tick_intensity;
  engine_->post([ms = 2 * *n.net_ticktime_ms](fault::Engine& e, fault::Output&) {
    e.set_recovery_timeout_ms(ms);  // recovered, or 2 x T (docs/protocol.md, fault_recovered)
    return ei::atom("ok");
  });
  n.joined();
  spdlog::info("joined {} (net_ticktime {} ms, intensity {}), watcher running", n.name, *n.net_ticktime_ms,
               *n.tick_intensity);
  record(
      {0,
       "node_joined",
       0,
       {{"node", ei::atom(n.name)}, {"net_ticktime_ms", *n.net_ticktime_ms}, {"tick_intensity", *n.tick_intensity}}});
}

// Called once the node's connection is gone (from drop_connection).
void Agent::node_failed(LocalNode& n, const std::string& why) {
  const bool was_ready = n.state == LocalNode::State::ready;
  const auto now = clock::Monotonic::now();
  n.failed(now);
  const auto retry_ms = std::chrono::duration_cast<std::chrono::milliseconds>(n.deadline - now).count();
  if (was_ready) {
    spdlog::warn("lost {}: {}; rejoining in {}ms", n.name, why, retry_ms);
    record({0, "node_lost", 0, {{"node", ei::atom(n.name)}, {"reason", ei::binary(why)}}});
  } else {
    spdlog::warn("joining {} failed: {}; retrying in {}ms", n.name, why, retry_ms);
  }
}

}  // namespace ticksplit::agent
