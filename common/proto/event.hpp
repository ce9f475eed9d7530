// Events the agent records and sends to subscribers as {ticksplit_event, AgentNode, Event}.
// On the wire an event is a map with at least seq, type and time_us (docs/protocol.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/ei/term.hpp"
#include "common/error.hpp"

namespace ticksplit::proto {

struct Event {
  std::uint64_t seq = 0;
  std::string type;                                      // nodeup, nodedown, node_joined, node_lost, log_gap, ...
  std::int64_t time_us = 0;                              // unix microseconds, taken when the agent learned of it
  std::vector<std::pair<std::string, ei::Term>> fields;  // the rest, by name

  [[nodiscard]] const ei::Term* field(std::string_view name) const noexcept;
  bool operator==(const Event&) const = default;
};

ei::Term to_term(const Event& e);
Result<Event> event_from_term(const ei::Term& t);

// {ticksplit_event, AgentNode, Event}, from the event's term (to_term) when the caller has it
ei::Term event_message(const std::string& agent_node, ei::Term event);
ei::Term event_message(const std::string& agent_node, const Event& e);

}  // namespace ticksplit::proto
