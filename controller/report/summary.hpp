// What ticksplit-ctl prints for people: the plan before a run (and for `plan`), and the table
// of what each fault did after it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/plan/plan.hpp"
#include "controller/run/runner.hpp"

namespace ticksplit::ctl {

// One link of the mesh during a fault: intended (cut, one way) against observed (the first
// nodedown either end saw, and the first nodeup after the window closed). Cut links, then any
// link not cut that went down (a cascade); hidden peers are not links of the mesh.
struct LinkReport {
  Link link;
  bool cut = false, one_way = false;
  std::optional<NodeDown> first_down;
  std::optional<std::int64_t> up_after_heal_us;
};
std::vector<LinkReport> link_reports(const FaultOutcome& f);

// A fault's loss: "100%" when total; lossy, what was asked and what the kernel made,
// "30% (29.8% seen)".
std::string loss_column(const FaultOutcome& f);

// A kill_process's outcome in one line: "killed <0.90.0> (ts_worker) on app@h, 0.52 ms after
// the planned instant; restarted after 3.10 ms as <0.95.0>", "...; not restarted within
// 1000 ms", or "...: not killed: why".
std::string kill_text(const FaultOutcome& f);

// The table printed at the end of a run (columns as wide as their content), then each fault's
// links.
std::string summary(const std::vector<FaultOutcome>& faults, const ClusterInfo& cluster);

// Human-readable plan (ticksplit-ctl plan).
std::string describe_plan(const std::vector<PlannedStep>& plan, const ClusterInfo& cluster, std::uint64_t seed);

}  // namespace ticksplit::ctl
