// Putting the watcher module (erlang/src/ticksplit_watcher.erl) on a local node, and
// reading the events it forwards.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"

namespace ticksplit::agent::watcher {

// The compiled watcher, embedded in the agent at build time.
std::span<const std::uint8_t> beam();

// One RPC of the install sequence: purge old code, load the embedded .beam, start.
struct Step {
  const char* mod;
  const char* fun;
  ei::Term args;
};
std::vector<Step> install_steps(const std::string& agent_node, const std::string& agent_name);

struct Started {
  std::int64_t net_ticktime_ms;
  std::int64_t tick_intensity;
};
// Checks the reply (the Reply of {rex, Reply}) to step `index`. The last step yields Started.
Result<std::optional<Started>> check_reply(std::size_t index, const ei::Term& reply);

// {ticksplit_watcher, Observer, nodeup | nodedown, Peer, Info}
bool is_watcher_message(const ei::Term& msg) noexcept;
// A nodeup/nodedown event with observer, peer, node_type and (nodedown) reason.
Result<proto::Event> to_event(const ei::Term& msg);

}  // namespace ticksplit::agent::watcher
