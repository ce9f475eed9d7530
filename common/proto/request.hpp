// Requests of the agent's gen_server protocol (docs/protocol.md), to and
// from terms. The controller encodes with to_term; the agent parses with parse_request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::proto {

struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};
struct SubscribeRequest {
  ei::Pid pid;
  bool operator==(const SubscribeRequest&) const = default;
};
struct UnsubscribeRequest {
  ei::Pid pid;
  bool operator==(const UnsubscribeRequest&) const = default;
};
struct EventsRequest {
  std::int64_t since = 0;
  bool operator==(const EventsRequest&) const = default;
};


// A peer as the requester named it: a node name (atom; its host is resolved to addresses) or
// an address or CIDR (binary).
struct Peer {
  std::string text;
  bool is_node = false;
  bool operator==(const Peer&) const = default;
};

// {partition, #{peers, duration_ms, direction, start_at_us, id, loss}}. Shape is checked here;
// policy (exempt addresses, --max-fault) is the agent's.
struct PartitionRequest {
  std::vector<Peer> peers;
  std::int64_t duration_ms = 0;
  Direction direction = Direction::in;
  std::optional<std::int64_t> start_at_us;  // unix microseconds; absent: now
  std::optional<std::string> id;
  Loss loss;  // absent: total
  bool operator==(const PartitionRequest&) const = default;
};
// {pause, #{node, duration_ms, start_at_us, id}}: stop a local node's OS process for a window.
struct PauseRequest {
  std::string node;
  std::int64_t duration_ms = 0;
  std::optional<std::int64_t> start_at_us;  // unix microseconds; absent: now
  std::optional<std::string> id;
  bool operator==(const PauseRequest&) const = default;
};
// {kill_node, #{node, start_at_us, id, restart_after_ms}}: SIGKILL a local node's OS process at
// an instant and, if restart_after_ms is given, start it again that long after the kill with
// the agent's --node-start command for it (absent: the host's supervisor restarts it).
struct KillNodeRequest {
  std::string node;
  std::optional<std::int64_t> start_at_us;  // unix microseconds; absent: now
  std::optional<std::string> id;
  std::optional<std::int64_t> restart_after_ms;
  bool operator==(const KillNodeRequest&) const = default;
};

// {kill_process, #{node, name | supervisor, start_at_us, id, restart_window_ms}}: kill a
// process on a local node (exit(Pid, kill)) by registered name, or a random child of a
// registered supervisor, and watch for its restart (docs/faults.md).
struct KillProcessRequest {
  static constexpr std::int64_t default_restart_window_ms = 1000;
  static constexpr std::int64_t min_restart_window_ms = 10;
  static constexpr std::int64_t max_restart_window_ms = 60000;
  std::string node;
  ProcessTarget target;
  std::int64_t restart_window_ms = default_restart_window_ms;
  std::optional<std::int64_t> start_at_us;  // unix microseconds; absent: now
  std::optional<std::string> id;
  bool operator==(const KillProcessRequest&) const = default;
};
// {stress, #{node, duration_ms, start_at_us, id, hogs}}: starve a local node's schedulers for a
// window with max-priority busy processes (hogs per online scheduler, 1..16, default 2).
struct StressRequest {
  static constexpr std::int64_t default_hogs = 2, max_hogs = 16;
  std::string node;
  std::int64_t duration_ms = 0;
  std::optional<std::int64_t> start_at_us;  // unix microseconds; absent: now
  std::optional<std::string> id;
  std::int64_t hogs = default_hogs;
  bool operator==(const StressRequest&) const = default;
};
struct HealRequest {
  std::string id;
  bool operator==(const HealRequest&) const = default;
};
struct HealAllRequest {
  bool operator==(const HealAllRequest&) const = default;
};

using Request = std::variant<StatusRequest, SubscribeRequest, UnsubscribeRequest, EventsRequest, PartitionRequest,
                             PauseRequest, HealRequest, HealAllRequest, KillNodeRequest,
                             KillProcessRequest,
                             StressRequest>;

// A request that cannot be served, with the reason to send back in {error, Reason}.
struct Rejected {
  ei::Term reason;
};

std::variant<Request, Rejected> parse_request(const ei::Term& t);
ei::Term to_term(const Request& r);

// `{'$gen_call', {From, Tag}, Request}` as gen_server:call sends it. Tag is opaque (a ref,
// or [alias | Ref] on OTP >= 24) and goes back unchanged in the reply `{Tag, Reply}`.
struct GenCall {
  ei::Pid from;
  ei::Term tag;
  ei::Term request;
};

// Not a gen_call at all: error. A gen_call whose From is malformed: error too (no one to
// answer). The caller tells them apart with is_gen_call().
bool is_gen_call(const ei::Term& msg) noexcept;
Result<GenCall> parse_gen_call(const ei::Term& msg);
ei::Term gen_call_term(const GenCall& c);
ei::Term gen_reply_term(const ei::Term& tag, ei::Term reply);

}  // namespace ticksplit::proto
