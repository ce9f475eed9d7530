#include "agent/node_joiner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>

#include "common/node_name.hpp"

namespace ticksplit::agent {

NodeJoiner::NodeJoiner(Ports& ports, const std::vector<std::string>& nodes, std::string agent_node,
                       std::string forward_logs, Clock now)
    : ports_(ports), agent_node_(std::move(agent_node)), forward_logs_(std::move(forward_logs)), now_(std::move(now)) {
  for (const auto& n : nodes) nodes_.emplace_back(n);
}

void NodeJoiner::start() {
  for (auto& n : nodes_) attempt(n);
}

LocalNode* NodeJoiner::by_fd(int fd) {
  for (auto& n : nodes_)
    if (n.state != LocalNode::State::down && n.fd == fd) return &n;
  return nullptr;
}

const LocalNode* NodeJoiner::node_on(int fd) const {
  for (const auto& n : nodes_)
    if ((n.state == LocalNode::State::installing || n.state == LocalNode::State::ready) && n.fd == fd) return &n;
  return nullptr;
}

LocalNode* NodeJoiner::by_name(const std::string& name) {
  for (auto& n : nodes_)
    if (n.name == name) return &n;
  return nullptr;
}

void NodeJoiner::attempt(LocalNode& n) {
  try {
    auto d = ports_.dial(n.name);
    std::erase_if(dials_, [&n](const auto& p) { return p.first == n.name; });
    dials_.emplace_back(n.name, std::move(d));
  } catch (const std::exception& e) {  // no eventfd or no thread: a failed attempt, retried
    n.failed(now_());
    spdlog::warn("cannot start connecting to {}: {}; retrying with backoff", n.name, e.what());
    return;
  }
  n.state = LocalNode::State::connecting;
  n.deadline = now_() + LocalNode::connect_timeout;
}

std::vector<std::pair<int, std::string>> NodeJoiner::dial_fds() const {
  std::vector<std::pair<int, std::string>> fds;
  for (const auto& [node, d] : dials_) fds.emplace_back(d->event_fd(), node);
  return fds;
}

void NodeJoiner::on_dial_ready(const std::string& name) {
  const std::string node = name;  // `name` may be the key erased below
  const auto it = std::find_if(dials_.begin(), dials_.end(), [&node](const auto& p) { return p.first == node; });
  if (it == dials_.end()) return;
  auto fd = it->second->take();
  // Readiness that was not the dial's: a poll entry of a closed fd whose number this dial's
  // eventfd took in the same turn. It is still at work.
  if (!fd && fd.error().code == EAGAIN) return;
  dials_.erase(it);
  auto* n = by_name(node);
  if (n == nullptr || n->state != LocalNode::State::connecting) {
    if (fd) ports_.discard(*fd);  // it reached us first, or we gave up
    return;
  }
  if (!fd) {
    n->failed(now_());
    // Loud once per outage, quiet while retrying: a wrong cookie or a node that is not up
    // must be visible without filling the log every 2 s.
    if (n->failures == 1)
      spdlog::warn("{} (is the node up? does the cookie match?); retrying with backoff", fd.error().message);
    else
      spdlog::debug("{}; retrying", fd.error().message);
    return;
  }
  spdlog::debug("connected to {}", node);
  ports_.connected(*fd, node);  // the loop opens it, and opened() starts the install
}

void NodeJoiner::opened(int fd, const std::string& node) {
  auto* n = by_name(node);
  if (n == nullptr || (n->state != LocalNode::State::down && n->state != LocalNode::State::connecting)) return;
  std::erase_if(dials_, [&node](const auto& p) { return p.first == node; });  // it reached us first
  n->fd = fd;
  start_install(*n);
}

void NodeJoiner::start_install(LocalNode& n) {
  n.state = LocalNode::State::installing;
  n.step = watcher::Step::check_loaded;
  send_step(n);
}

void NodeJoiner::send_step(LocalNode& n) {
  n.deadline = now_() + LocalNode::rpc_timeout;
  ports_.rpc(n.fd, watcher::call_for(n.step, agent_node_, agent_registered_name, forward_logs_));
}

bool NodeJoiner::on_rex(int fd, const ei::Term& reply) {
  auto* n = by_fd(fd);
  if (n == nullptr) return false;
  if (n->state != LocalNode::State::installing) {
    spdlog::warn("unexpected rpc reply from {}: {}, ignoring", n->name, ei::log_text(reply));
    return true;
  }
  auto next = watcher::on_reply(n->step, reply);
  if (!next) {
    spdlog::error("installing the watcher on {}: {}", n->name, next.error().message);
    ports_.drop(fd, "watcher install failed");
    return true;
  }
  if (next->step) {
    n->step = *next->step;
    send_step(*n);
    return true;
  }
  n->net_ticktime_ms = next->started->net_ticktime_ms;
  n->tick_intensity = next->started->tick_intensity;
  n->os_pid = next->started->os_pid;
  // Only a pid on the node itself is its watcher (a forged one would send commands elsewhere).
  n->watcher = next->started->watcher && next->started->watcher->node == n->name ? next->started->watcher : std::nullopt;
  n->joined();
  ports_.joined(*n);
  spdlog::info("joined {} (net_ticktime {} ms, intensity {}), watcher running", n->name, *n->net_ticktime_ms,
               *n->tick_intensity);
  ports_.record({0,
                 "node_joined",
                 0,
                 {{"node", ei::atom(n->name)},
                  {"net_ticktime_ms", *n->net_ticktime_ms},
                  {"tick_intensity", *n->tick_intensity}}});
  return true;
}

bool NodeJoiner::lost(int fd, const std::string& why) {
  auto* n = by_fd(fd);
  if (n == nullptr) return false;
  failed(*n, why);
  return true;
}

// Once the node's connection is gone, or connecting gave up.
void NodeJoiner::failed(LocalNode& n, const std::string& why) {
  const bool was_ready = n.state == LocalNode::State::ready;
  const auto now = now_();
  n.failed(now);
  const auto retry_ms = std::chrono::duration_cast<std::chrono::milliseconds>(n.deadline - now).count();
  if (was_ready) {
    spdlog::warn("lost {}: {}; rejoining in {}ms", n.name, why, retry_ms);
    ports_.record({0, "node_lost", 0, {{"node", ei::atom(n.name)}, {"reason", ei::binary(why)}}});
  } else {
    spdlog::warn("joining {} failed: {}; retrying in {}ms", n.name, why, retry_ms);
  }
}

void NodeJoiner::expire(clock::Monotonic::time_point now) {
  for (auto& n : nodes_) {
    if (n.deadline > now) continue;
    if (n.state == LocalNode::State::down) {
      attempt(n);
    } else if (n.state == LocalNode::State::connecting) {
      std::erase_if(dials_, [&n](const auto& p) { return p.first == n.name; });  // its thread closes what it may still connect
      failed(n, "connecting timed out");
    } else if (n.state == LocalNode::State::installing) {
      ports_.drop(n.fd, "watcher install timed out");  // lost() then marks it failed
    }
  }
}

std::optional<clock::Monotonic::time_point> NodeJoiner::next_deadline() const {
  std::optional<clock::Monotonic::time_point> next;
  for (const auto& n : nodes_)
    if (n.state != LocalNode::State::ready && (!next || n.deadline < *next)) next = n.deadline;
  return next;
}

}  // namespace ticksplit::agent
