// What ticksplit-ctl prints for people: the plan before a run (and for `plan`), and the table
// of what each fault did after it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/plan/plan.hpp"
#include "controller/run/runner.hpp"

namespace ticksplit::ctl {

// The table printed at the end of a run.
std::string summary(const std::vector<FaultOutcome>& faults, const ClusterInfo& cluster);

// Human-readable plan (ticksplit-ctl plan).
std::string describe_plan(const std::vector<PlannedStep>& plan, const ClusterInfo& cluster, std::uint64_t seed);

}  // namespace ticksplit::ctl
