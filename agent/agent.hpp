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
#include "common/cnode/dialer.hpp"
#include "common/cnode/stream.hpp"
#include "agent/engine_thread.hpp"
#include "agent/event_fanout.hpp"
#include "agent/event_log.hpp"
#include "agent/fault/engine.hpp"
#include "agent/fault/kernel_backend.hpp"
#include "agent/instance_lock.hpp"
#include "agent/ledger.hpp"
#include "agent/local_node.hpp"
#include "agent/options.hpp"
#include "agent/subscribers.hpp"
#include "agent/throttle.hpp"
#include "common/fd.hpp"
#include "common/net/lookup.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"

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
  void on_connection_ready(int fd, short revents);
  void on_timer();
  void expire_handshakes(clock::Monotonic::time_point now);
  void arm_timer();
  void adopt(int fd);
  void start_requester_lookup(int fd);
  void on_lookup_done(int fd);
  void expire_lookups(clock::Monotonic::time_point now);
  void resolved(int fd, const net::Resolved& found);
  void replay_deferred(int fd);
  void drop_connection(int fd, const std::string& why);
  void refuse_handshake(int fd, const std::string& why);
  void evict_oldest_handshake();
  [[nodiscard]] std::size_t handshaking() const;
  cnode::Stream* connection_to(const std::string& node);
  void shutdown();
  bool report_leftovers();

  // agent_nodes.cpp: joining local nodes, the watcher
  void attempt_join(LocalNode& n);
  void on_dialed(const std::string& name);
  void start_install(LocalNode& n);
  void send_install_step(LocalNode& n);
  void on_rex(LocalNode& n, const ei::Term& reply);
  void node_failed(LocalNode& n, const std::string& why);
  LocalNode* local_by_fd(int fd);
  LocalNode* local_by_name(const std::string& name);

  // agent_requests.cpp: messages and the gen_server protocol
  struct Caller {  // who waits for a reply: the call's From, on the node of its connection
    std::string node;
    ei::Pid from;
    ei::Term tag;
  };
  void on_message(cnode::Stream& conn, const cnode::Message& msg);
  void on_gen_call(cnode::Stream& conn, const std::string& to_name, const ei::Term& msg);
  void warn_peer(const char* kind, const std::string& text);
  // The reply, or nothing when it comes later (from the engine's thread, or after a lookup).
  std::optional<ei::Term> handle_request(const ei::Term& request, int fd, const Caller& caller);
  std::optional<ei::Term> partition(const proto::PartitionRequest& r, int fd, const Caller& caller);
  void arm(const proto::PartitionRequest& r, std::vector<net::Cidr> spared, const Caller& caller,
           const net::Resolved& names);
  void answer(const Caller& caller, ei::Term reply);
  ei::Term refused(const Caller& caller, const proto::Refusal& why, const std::string& context = "");
  // Work on the engine's thread whose result is the caller's reply.
  void ask_engine(EngineThread::Work work, Caller caller);
  void record(proto::Event e);
  void record(fault::Output events);
  [[nodiscard]] proto::AgentStatus status(std::vector<ei::Term> faults) const;

  Options opts_;
  InstanceLock host_lock_;  // first: nothing of a second agent's may touch this host
  EventLog log_;
  Ledger ledger_;
  bool leftovers_reported_;  // before backend_: the report comes before the filters go
  std::unique_ptr<fault::KernelBackend> backend_;  // before anything that may record a fault
  bool ledger_reset_;
  std::unique_ptr<EngineThread> engine_;  // after backend_ and ledger_: it uses both until it stops
  cnode::CNode cnode_;
  std::vector<LocalNode> locals_;
  std::map<int, std::unique_ptr<cnode::Stream>> conns_;  // open and still in handshake
  std::map<std::string, std::unique_ptr<cnode::Dialer>> dials_;  // by local node
  std::map<int, Result<std::vector<net::Cidr>>> requesters_;     // by open connection: what its faults spare
  // Names being looked up for a connection: its own host when it opens, or the node peers of
  // its partition request. Its later calls wait, in order (at most kMaxDeferred), so that a
  // heal or heal_all is not answered before the partition it follows.
  struct PendingLookup {
    std::unique_ptr<net::Lookup> lookup;
    clock::Monotonic::time_point deadline;
    std::vector<std::string> names;
    struct Partition {
      proto::PartitionRequest request;
      std::vector<net::Cidr> spared;  // the requester's addresses
      Caller caller;
    };
    std::optional<Partition> partition;  // absent: the connection's own host
    // The connection's own host past the deadline: its calls no longer wait (its partitions
    // are refused) but the lookup goes on, and its result counts when it comes.
    bool waited_out = false;
  };
  // Past this a partition's lookup is abandoned, the names not yet resolved counting as
  // unresolvable (which refuses it); a requester's stops holding its calls. glibc's resolver
  // waits 5 s per server and try, so a dead first server costs 5 s before the next answers.
  static constexpr auto kLookupDeadline = std::chrono::seconds(10);
  std::map<int, PendingLookup> lookups_;           // by connection
  static constexpr std::size_t kMaxDeferred = 64;  // calls waiting for that, per connection
  std::map<int, std::vector<std::pair<std::string, ei::Term>>> deferred_;
  Throttle handshake_warnings_{std::chrono::seconds(10)};
  std::map<std::string, Throttle> peer_warnings_;  // by kind
  Subscribers subscribers_;
  EventFanout fanout_{opts_.name, log_, subscribers_};  // after the log and subscribers it uses
  Fd timer_;
  Fd signals_;
  clock::Monotonic::time_point republish_at_{};
  clock::Monotonic::time_point listen_paused_until_{};
  bool stop_ = false;
};

}  // namespace ticksplit::agent
