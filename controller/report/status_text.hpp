// What `ticksplit-ctl status` and `heal` print for an agent that answered.
#pragma once

#include <string>

#include "controller/run/status_heal.hpp"

namespace ticksplit::ctl {

// One line per agent (backend, version, T and its window, faults; or how many it healed), then
// its nodes and its faults indented. Nothing for a reply with an error: that goes to stderr.
std::string describe_reply(const AgentReply& r);

}  // namespace ticksplit::ctl
