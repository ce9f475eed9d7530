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

}  // namespace ticksplit::agent::watcher
