// The cluster as the agents report it: the app nodes each serves and T.
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

}  // namespace ticksplit::ctl
