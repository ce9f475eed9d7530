// The agent → watcher command channel (docs/protocol.md, "The watcher channel"): what the agent
// sends a local node's watcher, whose pid it learned when the watcher started
// (LocalNode::watcher). Every command is {ticksplit_agent, Command}, Command a tuple whose first
// element names it and whose second is the fault's id; the watcher schedules it at its instant
// and answers with a fault report (watcher_report.hpp). The one place commands are encoded.
#pragma once

#include <cstdint>
#include <string>

#include "common/ei/term.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::agent::watcher {

// {ticksplit_agent, Command}
ei::Term command_message(ei::Term command);

// {kill_process, Id, {name, Name} | {child_of, Supervisor}, StartAtUs, RestartWindowMs}
struct KillProcessCommand {
  std::string id;
  proto::ProcessTarget target;
  std::int64_t start_at_us = 0;  // unix µs: the node runs on this host and reads the same clock
  std::int64_t restart_window_ms = 0;
};
ei::Term to_command(const KillProcessCommand& c);

// {stress, Id, StartAtUs, EndAtUs, #{hogs => Hogs}}: the node's watcher starts the stress's
// sampler at once, which starts the hogs at StartAtUs; they end by themselves at EndAtUs.
struct StressCommand {
  std::string id;
  std::int64_t start_at_us = 0, end_at_us = 0;  // unix µs: the node runs on this host, same clock
  std::int64_t hogs = 2;
  bool operator==(const StressCommand&) const = default;
};
ei::Term to_command(const StressCommand& c);
// {stress_stop, Id}: sent (as {ticksplit_agent, {stress_stop, Id}}) to the node's
// `ticksplit_stress`, the stress's sampler, not to the watcher: the watcher runs at normal
// priority, which the hogs starve.
ei::Term stress_stop_command(const std::string& id);

}  // namespace ticksplit::agent::watcher
