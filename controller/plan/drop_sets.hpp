// The planner's vocabulary: groups of nodes, and drop sets ("grudges", as Jepsen calls them:
// node -> the nodes it drops traffic from).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ticksplit::ctl {

using Groups = std::vector<std::vector<std::string>>;
using Grudge = std::map<std::string, std::set<std::string>>;

}  // namespace ticksplit::ctl
