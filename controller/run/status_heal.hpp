// `ticksplit-ctl status` and `heal` on the Agents seam: one call to each agent, all sent before
// any reply is awaited, and what each answered, read into types (unit-tested on the fake).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/reply.hpp"
#include "controller/run/agents.hpp"

namespace ticksplit::ctl {

struct AgentReply {
  std::string agent;
  std::optional<proto::AgentStatus> status;  // status: what it reports
  std::optional<std::int64_t> healed;        // heal: how many faults it healed
  std::optional<std::string> error;          // no reply, or one that could not be read
};

// In the order the agents are named.
std::vector<AgentReply> ask_status(Agents& agents, const std::vector<std::string>& names);
// heal_all on every agent: every owner's faults, not only this controller's.
std::vector<AgentReply> heal_all(Agents& agents, const std::vector<std::string>& names);

}  // namespace ticksplit::ctl
