// Replies of the agent's protocol that have structure: status and events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"
#include "common/tick_window.hpp"

namespace ticksplit::proto {

struct NodeStatus {
  std::string node;
  bool connected = false;
  bool operator==(const NodeStatus&) const = default;
};

struct EventLogStatus {
  std::uint64_t next_seq = 0;
  std::uint64_t held = 0;
  std::uint64_t capacity = 0;
  std::uint64_t dropped = 0;  // evicted to keep the log bounded
  bool operator==(const EventLogStatus&) const = default;
};

struct AgentStatus {
  std::string agent;
  std::vector<NodeStatus> nodes;
  std::optional<std::int64_t> net_ticktime_ms;  // unknown until a node has been joined
  std::optional<std::int64_t> tick_intensity;
  std::string backend;
  std::string version;
  std::vector<std::string> exempt;  // CIDRs
  std::int64_t max_fault_ms = 0;
  EventLogStatus events;
  std::vector<ei::Term> faults;  // one map per fault not yet recovered (agent/fault/engine.hpp)
  bool operator==(const AgentStatus&) const = default;

  [[nodiscard]] std::optional<TickWindow> window() const;
};

// {ok, #{agent => ..., nodes => [...], net_ticktime_ms => ..., detection_window_ms => {Min, Max}, ...}}
ei::Term status_reply(const AgentStatus& s);
Result<AgentStatus> parse_status_reply(const ei::Term& t);

// What an {error, Reason} reply says, for a user: not_allowed explained (the caller's node
// name matches none of the agent's --allow patterns), any other reason printed as a term.
// Nothing if the reply is not an error.
std::optional<std::string> refused_text(const ei::Term& reply);

// {ok, [Event], NextSeq}
ei::Term events_reply(const std::vector<Event>& events, std::uint64_t next_seq);

}  // namespace ticksplit::proto
