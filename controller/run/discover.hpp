// The cluster a plan is made for: as the agents report it (the app nodes each serves and T),
// or, for `plan` without agents, as the schedule names it.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/plan/plan.hpp"
#include "controller/run/agents.hpp"

namespace ticksplit::ctl {

// The app nodes and T the agents report. Error if an agent fails to answer, has not joined
// its node, or the agents disagree on net_ticktime or intensity.
Result<ClusterInfo> discover(Agents& agents, const std::vector<std::string>& names);

// The schedule's `nodes` and `net_ticktime` (intensity 4 unless given), each node served by
// the schedule's agent on its host, else by the default agent of its host. Error naming a node
// with neither.
Result<ClusterInfo> cluster_of_schedule(const Schedule& s);

}  // namespace ticksplit::ctl
