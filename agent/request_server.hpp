// Serving requests: the gen_server protocol on the registered name `ticksplit` (and
// net_kernel's is_auth) for every open connection (docs/protocol.md).
//
// It knows who each connection is and what that requester's faults must spare (looked up once,
// when the connection opens, never on a request), holds a connection's calls in order while a
// lookup for it is under way (so a heal is not answered before the partition it follows), owns
// subscriptions, and turns requests into work for the fault engine. Faults are owned like
// links: when a connection closes, its node's faults heal.
//
// It holds no socket or engine, and no thread but its lookups' (net::Lookup). The loop hands it
// calls and connection changes, and it reaches the loop through Ports (answer a caller, post work to the engine, the agent's status,
// rate-limited warnings), so it is unit-tested with fakes
// (tests/unit/agent_request_server_test.cpp). Host names are looked up by net::Lookup threads
// whose resolver is a seam too.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "agent/engine_thread.hpp"
#include "agent/event_log.hpp"
#include "agent/safety.hpp"
#include "agent/subscribers.hpp"
#include "common/clock.hpp"
#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/net/cidr.hpp"
#include "common/net/lookup.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::agent {

// Who waits for a reply: the call's From, on the node of the connection it came in on.
struct Caller {
  std::string node;
  ei::Pid from;
  ei::Term tag;
};

class RequestServer {
 public:
  class Ports {
   public:
    virtual ~Ports() = default;
    // Sends the reply on the caller's connection. May drop that connection (and so call
    // closed()) if it cannot take the reply.
    virtual void answer(const Caller& caller, ei::Term reply) = 0;
    // Work for the fault engine, run in the order posted; `done` runs later, on the loop.
    virtual void post(EngineThread::Work work, EngineThread::Done done) = 0;
    // The agent's status but for its faults (nodes, backend, limits, the event log).
    [[nodiscard]] virtual proto::AgentStatus status() const = 0;
    // A warning about a peer's input, rate-limited per kind (a fixed set named in the code).
    virtual void warn(const char* kind, const std::string& text) = 0;
    // A local node's OS process, to pause it; or why there is none (not a node this agent
    // joins, or not joined yet).
    [[nodiscard]] virtual std::variant<fault::NodeProcess, proto::Refusal> local_process(
        const std::string& node) const = 0;
    // A kill_process for `owner`: checked and sent to the node's watcher now (it kills at the
    // planned instant); the reply, {ok, Id} or {error, Reason}.
    virtual ei::Term kill_process(const proto::KillProcessRequest& r, const std::string& owner) = 0;
    // A stress for `owner`: checked and sent to the node's watcher now (the node runs it); the
    // reply, {ok, Id} or {error, Reason}.
    virtual ei::Term stress(const proto::StressRequest& r, const std::string& owner) = 0;
    // Stops a stress early (its stress_ended comes from the node): true if `id` is one of this
    // agent's stresses, under way or lately over.
    virtual bool stop_stress(const std::string& id, proto::HealReason why) = 0;
    // Stops the stresses `owner` asked for (every one if none): how many.
    virtual std::size_t stop_stresses(const std::optional<std::string>& owner, proto::HealReason why) = 0;
  };

  // Past this a partition's lookup is abandoned, the names not yet resolved counting as
  // unresolvable (which refuses it); a requester's stops holding its calls. glibc's resolver
  // waits 5 s per server and try, so a dead first server costs 5 s before the next answers.
  static constexpr auto lookup_deadline = std::chrono::seconds(10);
  static constexpr std::size_t max_deferred = 64;  // calls waiting for a lookup, per connection
  static constexpr std::size_t events_per_reply = 1000;
  static constexpr std::size_t events_reply_bytes = 1u << 20;  // well inside one packet (dist::kMaxPacket)

  struct Seams {
    AddressSource addresses = system_addresses();        // the requester's addresses, this host's
    net::Resolver resolve = nullptr;                      // host names on Lookup threads (nullptr: DNS)
    std::function<clock::Monotonic::time_point()> now = [] { return clock::Monotonic::now(); };
  };
  // `allow`: --allow's node name patterns (agent/access/name_pattern.hpp); a node whose name
  // matches none gets {error, not_allowed} to every request. Empty: every node is served.
  RequestServer(Ports& ports, EventLog& log, Subscribers& subscribers, Seams seams,
                std::vector<std::string> allow = {});
  RequestServer(Ports& ports, EventLog& log, Subscribers& subscribers)
      : RequestServer(ports, log, subscribers, Seams{}) {}

  // A connection finished its handshake: `node` as it proved, `peer` as getpeername saw it.
  // `dialed`: the agent opened it to one of its --node nodes, whose test code is served
  // whatever --allow says (the agent chose that peer; nobody claimed a name to it).
  void opened(int fd, const std::string& node, const std::optional<net::Cidr>& peer, bool dialed = false);
  // It is gone: its calls waiting and its lookups go, its subscriptions end, its faults heal.
  void closed(int fd);
  // A gen_call ({'$gen_call', From, Request}) that arrived on `fd` for `to_name` (`ticksplit`
  // or `net_kernel`). Answered now, later (engine, lookup), or never (malformed, forged).
  void on_call(int fd, const std::string& to_name, const ei::Term& message);

  // The lookups under way, as (event fd, connection fd), for the poll set.
  [[nodiscard]] std::vector<std::pair<int, int>> lookup_fds() const;
  // The event fd of the lookup of connection `fd` is readable.
  void on_lookup_ready(int fd);
  // Lookups past their deadline; and the earliest deadline still ahead.
  void expire(clock::Monotonic::time_point now);
  [[nodiscard]] std::optional<clock::Monotonic::time_point> next_deadline() const;

 private:
  struct Connection {
    std::string node;
    std::optional<net::Cidr> peer;
    bool allowed = true;  // its name matches an --allow pattern (or there are none)
    // What its faults must spare; absent while its host is looked up.
    std::optional<Result<std::vector<net::Cidr>>> spared;
  };
  // Names being looked up for a connection: its own host when it opens, or the node peers of
  // its partition request.
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

  // The reply, or nothing when it comes later (from the engine, or after a lookup).
  std::optional<ei::Term> handle(const ei::Term& request, int fd, const Caller& caller);
  std::optional<ei::Term> partition(const proto::PartitionRequest& r, int fd, const Caller& caller);
  std::optional<ei::Term> pause(const proto::PauseRequest& r, const Caller& caller);
  std::optional<ei::Term> kill_node(const proto::KillNodeRequest& r, const Caller& caller);
  // Posts an engine call that applies a fault (partition or pause) and answers its id or its
  // refusal, logged once.
  void apply_fault(const char* what, EngineThread::Work work, const Caller& caller);
  void arm(const proto::PartitionRequest& r, std::vector<net::Cidr> spared, const Caller& caller,
           const net::Resolved& names);
  ei::Term refused(const Caller& caller, const proto::Refusal& why, const std::string& context = "");
  void ask_engine(EngineThread::Work work, Caller caller);
  void resolved(int fd, const net::Resolved& found);
  void replay_deferred(int fd);

  Ports& ports_;
  EventLog& log_;
  Subscribers& subscribers_;
  Seams seams_;
  std::vector<std::string> allow_;
  std::map<int, Connection> connections_;  // open ones
  std::map<int, PendingLookup> lookups_;   // by connection
  std::map<int, std::vector<std::pair<std::string, ei::Term>>> deferred_;
};

}  // namespace ticksplit::agent
