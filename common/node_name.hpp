// Erlang node names and the agent that serves a node: one rule for the agent (flags, the
// handshake), the controller (schedules, clusters) and, in erlang/src/ticksplit_groups.erl
// and ticksplit.erl, the library; tests/data/golden/node_names.txt pins both languages.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ticksplit {

// The longest node name the distribution protocol carries (a 2-byte length, OTP's own limit).
inline constexpr std::size_t max_node_name = 255;

// name@host: exactly one '@' with something on both sides, printable ASCII without spaces,
// at most max_node_name bytes. A node name becomes a connection's identity (fault owner,
// subscriber node), so nothing else gets through.
bool valid_node_name(std::string_view name) noexcept;

// The name every agent registers on its node (and that requests are sent to).
inline constexpr const char* agent_registered_name = "ticksplit";

// The agent that serves a node by default: ticksplit@Host for Name@Host; nothing if the node
// is not a node name or that agent's name would not be one (a host of 246 bytes or more).
std::optional<std::string> default_agent_of(std::string_view node);

}  // namespace ticksplit
