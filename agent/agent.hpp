// The agent daemon: one poll loop over the listening socket, the epmd registration, every
// distribution connection, a timerfd and a signalfd. Nothing in it blocks on a peer or on the
// kernel: sockets are non-blocking, handshakes are state machines with a deadline, connecting
// to a local node runs on a Dialer's thread, host names are looked up on a Lookup's thread,
// and the fault engine runs on an EngineThread (none of them touches the agent's state).
#pragma once

#include <poll.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cnode/cnode.hpp"
#include "common/cnode/stream.hpp"
#include "agent/engine_thread.hpp"
#include "agent/event_fanout.hpp"
#include "agent/event_log.hpp"
#include "agent/fault/engine.hpp"
#include "agent/fault/kernel_backend.hpp"
#include "agent/instance_lock.hpp"
#include "agent/ledger.hpp"
#include "agent/local_node.hpp"
#include "agent/log_limit.hpp"
#include "agent/node_joiner.hpp"
#include "agent/options.hpp"
#include "agent/privileges.hpp"
#include "agent/kill/spawned_kill_guards.hpp"
#include "agent/process_kills.hpp"
#include "agent/stresses.hpp"
#include "agent/pause/spawned_guards.hpp"
#include "agent/request_server.hpp"
#include "agent/subscribers.hpp"
#include "agent/throttle.hpp"
#include "common/fd.hpp"
#include "common/proto/reply.hpp"

namespace ticksplit::agent {

// The loop and the connections are this class; what arrives on them is dispatched to the
// units that serve it: requests to the RequestServer, joining local nodes to the NodeJoiner,
// events to the EventFanout, fault work to the EngineThread. Agent implements their Ports.
class Agent final : private RequestServer::Ports, private NodeJoiner::Ports {
 public:
  // Throws ConfigError when the agent cannot start (no port, epmd refuses the name, no way
  // to enforce partitions).
  explicit Agent(Options options);
  // Runs until SIGTERM or SIGINT; returns the exit code.
  int run();

 private:
  // agent.cpp: the loop, its timer, start-up and shutdown
  std::vector<pollfd> poll_set() const;
  void on_ready(int fd, short revents);
  void on_epmd_ready();
  void on_timer();
  void arm_timer();
  void shutdown();
  bool report_leftovers();
  void resume_left(const fault::Planned& p, std::int64_t now);

  // connections.cpp: accepting, handshakes, open connections, what arrives on them
  void on_listen_ready();
  void on_connection_ready(int fd, short revents);
  void on_message(cnode::Stream& conn, const cnode::Message& msg);
  void expire_handshakes(clock::Monotonic::time_point now);
  void adopt(int fd, bool dialed = false);
  void drop_connection(int fd, const std::string& why);
  void refuse_handshake(int fd, const std::string& why);
  void evict_oldest_handshake();
  [[nodiscard]] std::size_t handshaking() const;
  cnode::Stream* connection_to(const std::string& node);
  void record(proto::Event e) override;  // also NodeJoiner's port
  void record(fault::Output events);

  // connections.cpp: the units' ports
  void answer(const Caller& caller, ei::Term reply) override;
  void post(EngineThread::Work work, EngineThread::Done done) override;
  [[nodiscard]] proto::AgentStatus status() const override;
  void warn(const char* kind, const std::string& text) override;
  [[nodiscard]] std::variant<fault::NodeProcess, proto::Refusal> local_process(const std::string& node) const override;
  std::unique_ptr<NodeJoiner::Dial> dial(const std::string& node) override;
  void connected(int fd, const std::string& node) override;
  void discard(int fd) override;
  void rpc(int fd, const watcher::Call& call) override;
  void drop(int fd, const std::string& why) override { drop_connection(fd, why); }
  void joined(const LocalNode& node) override;

  // node_commands.cpp: the agent → watcher channel and the faults that use it
  ei::Term kill_process(const proto::KillProcessRequest& r, const std::string& owner) override;
  // Sends {ticksplit_agent, Command} to the node's watcher on its connection.
  Status command(const LocalNode& node, const ei::Term& command);
  // {ticksplit_watcher, Observer, fault, Kind, Id, Props} on connection `conn`, dispatched by Kind.
  void on_fault_report(const cnode::Stream& conn, const ei::Term& msg);
  void record(const proto::ProcessKilled& k);
  void node_commands_lost(const std::string& node, const std::string& why);
  void expire_commands(clock::Monotonic::time_point now);

  // stress_commands.cpp: stresses over the channel (agent/stresses.hpp)
  ei::Term stress(const proto::StressRequest& r, const std::string& owner) override;
  bool stop_stress(const std::string& id, proto::HealReason why) override;
  std::size_t stop_stresses(const std::optional<std::string>& owner, proto::HealReason why) override;
  // A stress's report or rejection from `node`'s watcher or sampler: true if it was one of ours.
  bool on_stress_report(const std::string& node, const watcher::FaultReport& r);
  void record_stress(const proto::FaultEvent& e);

  Options opts_;
  InstanceLock host_lock_;  // first: nothing of a second agent's may touch this host
  EventLog log_;
  Ledger ledger_;
  bool leftovers_reported_;  // before backend_: the report comes before the filters go
  std::unique_ptr<fault::KernelBackend> backend_;  // before anything that may record a fault
  pause::SpawnedGuards guards_{pause::default_guard_path()};  // the engine's pauses use it
  kill::SpawnedKillGuards kill_guards_{kill::default_kill_guard_path()};  // the engine's kills use it
  bool ledger_reset_;
  // After backend_ (the last thing that needs CAP_BPF) and before engine_ (the first thread: capset
  // changes only the calling thread, and threads started later copy the reduced sets).
  privileges::Sets capabilities_;
  std::unique_ptr<EngineThread> engine_;  // after backend_ and ledger_: it uses both until it stops
  cnode::CNode cnode_;
  std::map<int, std::unique_ptr<cnode::Stream>> conns_;  // open and still in handshake
  // Each joined node's process, held by a pidfd from the moment its watcher said its pid.
  std::map<std::string, fault::NodeProcess> processes_;
  std::map<std::string, std::string> unpausable_;  // joined nodes whose process failed the checks, and why
  Stresses stresses_;   // stresses sent to watchers, until the node's report
  ProcessKills kills_;  // kill_process commands sent to watchers, until their report
  Subscribers subscribers_;
  EventFanout fanout_{opts_.name, log_, subscribers_};  // after the log and subscribers it uses
  RequestServer requests_{*this, log_, subscribers_, RequestServer::Seams{}, opts_.allow};
  NodeJoiner joiner_{*this, opts_.nodes, opts_.name, opts_.forward_logs};
  Throttle handshake_warnings_{std::chrono::seconds(10)};
  std::map<std::string, Throttle> peer_warnings_;  // by kind
  LogLimit log_limit_{100};  // forwarded log lines per node and second (the handler sends at most 50)
  Fd timer_;
  Fd signals_;
  clock::Monotonic::time_point republish_at_{};
  clock::Monotonic::time_point listen_paused_until_{};
  std::uint64_t refused_peers_ = 0;  // connections closed unread: their peer is outside --allow-from
  bool stop_ = false;
};

}  // namespace ticksplit::agent
