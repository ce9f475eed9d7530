// The agent daemon: one poll loop over the listening socket, the epmd registration, every
// distribution connection, a timerfd and a signalfd. No threads, no locks.
#pragma once

#include <poll.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/cnode/cnode.hpp"
#include "agent/event_log.hpp"
#include "agent/fault/engine.hpp"
#include "agent/fault/kernel_backend.hpp"
#include "agent/local_node.hpp"
#include "agent/options.hpp"
#include "agent/subscribers.hpp"
#include "common/fd.hpp"
#include "common/proto/reply.hpp"

namespace ticksplit::agent {

class Agent {
 public:
  // Throws ConfigError when the agent cannot start (no port, epmd refuses the name, no way
  // to enforce partitions).
  explicit Agent(Options options);
  // Runs until SIGTERM or SIGINT; returns the exit code.
  int run();

 private:
  // agent.cpp: the loop
  std::vector<pollfd> poll_set() const;
  void on_listen_ready();
  void on_epmd_ready();
  void on_connection_ready(int fd);
  void on_timer();
  void arm_timer();
  void adopt(std::unique_ptr<cnode::Connection> conn);
  void drop_connection(int fd, const std::string& why);
  cnode::Connection* connection_to(const std::string& node);
  void shutdown();

  // agent_nodes.cpp: joining local nodes, the watcher
  void attempt_join(LocalNode& n);
  void start_install(LocalNode& n);
  void send_install_step(LocalNode& n);
  void on_rex(LocalNode& n, const ei::Term& reply);
  void node_failed(LocalNode& n, const std::string& why);
  LocalNode* local_by_fd(int fd);
  LocalNode* local_by_name(const std::string& name);

  // agent_requests.cpp: messages and the gen_server protocol
  void on_message(cnode::Connection& conn, const erlang_msg& msg, const ei::XBuff& payload);
  void on_gen_call(cnode::Connection& conn, const std::string& to_name, const ei::Term& msg);
  ei::Term handle_request(const ei::Term& request, const std::string& from_node);
  ei::Term partition(const proto::PartitionRequest& r, const std::string& from_node);
  void record(proto::Event e);
  void record(fault::Events events);
  [[nodiscard]] proto::AgentStatus status() const;

  Options opts_;
  std::unique_ptr<fault::KernelBackend> backend_;  // before anything that may record a fault
  std::unique_ptr<fault::Engine> engine_;
  cnode::CNode cnode_;
  std::vector<LocalNode> locals_;
  std::map<int, std::unique_ptr<cnode::Connection>> conns_;
  EventLog log_;
  Subscribers subscribers_;
  Fd timer_;
  Fd signals_;
  clock::Monotonic::time_point republish_at_{};
  bool stop_ = false;
};

}  // namespace ticksplit::agent
