// Joining the local nodes (--node): connect off the loop, install the watcher one RPC step at a
// time (agent/watcher.hpp), retry with a doubling backoff, and rejoin when a connection is lost.
// A node that connects to the agent first is joined over that connection instead.
//
// It owns the join state of every local node and nothing else. Connecting, the loop's
// connections and the engine are reached through Ports (dial, send an RPC, drop a connection,
// joined, record an event), so it is unit-tested with fakes (tests/unit/agent_node_joiner_test.cpp).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/local_node.hpp"
#include "agent/watcher.hpp"
#include "common/clock.hpp"
#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"

namespace ticksplit::agent {

class NodeJoiner {
 public:
  // A connection attempt under way off the loop (a cnode::Dialer in the agent).
  class Dial {
   public:
    virtual ~Dial() = default;  // abandons the attempt: whatever it connects is closed
    [[nodiscard]] virtual int event_fd() const = 0;
    // Once event_fd() is readable: the connected socket or why not; an error with code EAGAIN
    // while it is still at work.
    virtual Result<int> take() = 0;
  };

  class Ports {
   public:
    virtual ~Ports() = default;
    // Starts connecting to `node`; throws when no attempt can start (no thread, no eventfd).
    virtual std::unique_ptr<Dial> dial(const std::string& node) = 0;
    // A socket a Dial made: the loop makes it a connection and calls opened() for it. Or one
    // nobody wants (a dial that finished for a node no longer connecting; opened() and
    // expire() destroy the dial first, so this is a guard): the loop closes it.
    virtual void connected(int fd, const std::string& node) = 0;
    virtual void discard(int fd) = 0;
    // Sends `call` to the node's rex on connection `fd`; the reply comes to on_rex(). May drop
    // the connection (and so call lost()).
    virtual void rpc(int fd, const watcher::Call& call) = 0;
    // Drops connection `fd` (which calls lost()).
    virtual void drop(int fd, const std::string& why) = 0;
    // The watcher runs: the node's tick settings for the engine, and node_joined / node_lost
    // events for the event log.
    virtual void joined(const LocalNode& node) = 0;
    virtual void record(proto::Event event) = 0;
  };

  using Clock = std::function<clock::Monotonic::time_point()>;
  // `agent_node`: this agent's node name, which each watcher reports to; `forward_logs`: the
  // level its logger handler forwards at ("none": no handler).
  NodeJoiner(Ports& ports, const std::vector<std::string>& nodes, std::string agent_node, std::string forward_logs,
             Clock now = [] { return clock::Monotonic::now(); });

  // The first attempt at every node.
  void start();
  // A connection opened to `node` (dialled or accepted): if it is a local node not yet joined,
  // its watcher install starts on it.
  void opened(int fd, const std::string& node);
  // Connection `fd` is gone; false if it was not a local node's.
  bool lost(int fd, const std::string& why);
  // {rex, Reply} on connection `fd`; false if it is not a local node's.
  bool on_rex(int fd, const ei::Term& reply);
  // The local node on connection `fd` once it is joined or joining, if any: only its own
  // watcher may report what it saw.
  [[nodiscard]] const LocalNode* node_on(int fd) const;

  // The dials under way, as (event fd, node), for the poll set.
  [[nodiscard]] std::vector<std::pair<int, std::string>> dial_fds() const;
  void on_dial_ready(const std::string& node);
  // Retries, dials given up, installs timed out; and the earliest of those deadlines.
  void expire(clock::Monotonic::time_point now);
  [[nodiscard]] std::optional<clock::Monotonic::time_point> next_deadline() const;

  [[nodiscard]] const std::vector<LocalNode>& nodes() const noexcept { return nodes_; }
  // Stops every dial (shutdown).
  void stop() { dials_.clear(); }

 private:
  void attempt(LocalNode& n);
  void start_install(LocalNode& n);
  void send_step(LocalNode& n);
  void failed(LocalNode& n, const std::string& why);
  LocalNode* by_fd(int fd);
  LocalNode* by_name(const std::string& name);

  Ports& ports_;
  std::vector<LocalNode> nodes_;
  std::string agent_node_;
  std::string forward_logs_;
  Clock now_;
  std::vector<std::pair<std::string, std::unique_ptr<Dial>>> dials_;  // by local node
};

}  // namespace ticksplit::agent
