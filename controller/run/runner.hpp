// Running a plan against the agents: arm every agent of a fault with one start_at_us, follow
// the events into the history, heal by the fault's own ids when something goes wrong, and
// collect what each fault did. Through the Agents seam, so that unit tests run it against a
// scripted fake (tests/unit/ctl_runner_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/fault.hpp"
#include "controller/history/history.hpp"
#include "controller/plan/plan.hpp"
#include "controller/run/agents.hpp"

namespace ticksplit::ctl {

// What the run learned about one fault, for the summary: every node event from the window's
// start until the next fault starts (or the run ends).
struct NodeDown {
  std::string observer, peer, reason, node_type;
  std::int64_t after_us = 0;  // since the fault's window started
  bool hidden = false;        // the peer is a hidden node (a shell, a controller): never a cascade
  bool cascade = false;       // a visible peer whose link the fault did not cut
  bool after_window = false;  // seen once the window had closed (at or after its planned end)
};
struct NodeUp {
  std::string observer, peer, node_type;
  std::int64_t after_heal_us = 0;  // since the window closed
};
struct FaultOutcome {
  PlannedFault fault;
  std::string id;
  std::int64_t start_us = 0, end_us = 0;
  double arm_ms = 0;  // from deciding the fault to every agent's reply
  bool landed = true;
  std::int64_t dropped_packets = 0;
  std::int64_t passed_packets = 0;  // matching packets a lossy fault let through
  std::int64_t effective_outage_us = -1;  // -1: no agent saw traffic come back
  std::vector<NodeDown> nodedowns;
  std::vector<NodeUp> nodeups;  // after the window closed: reconnections
  std::int64_t followed_until_us = 0;  // node events were attributed to it until then
  std::optional<proto::ProcessKilled> killed;  // a kill_process: what its node's watcher saw
  // A stress: what its node measured (the stressed node's agent's evidence, "Stress" in
  // docs/faults.md): scheduler utilisation before, during and after the window; the probes'
  // round trips during it. Empty for other faults or without a report.
  std::optional<double> utilisation_before, utilisation_during, utilisation_after;
  std::optional<double> rtt_during_median_ms, rtt_during_max_ms;
  // The loss the kernel made: dropped / (dropped + passed); none if no packet matched.
  [[nodiscard]] std::optional<double> loss_rate() const {
    const auto all = dropped_packets + passed_packets;
    return all == 0 ? std::nullopt : std::optional(static_cast<double>(dropped_packets) / static_cast<double>(all));
  }
};

struct RunResult {
  int exit_code = 0;
  std::vector<FaultOutcome> faults;
};

// Runs the plan; stops early on SIGINT/SIGTERM (read from signal_fd: heal, close the
// history, 130/143) or on an agent failing (heal the others, 1, naming it).
RunResult run_plan(Agents& agents, const ClusterInfo& cluster, const std::vector<PlannedStep>& plan,
                   std::uint64_t seed, History& history, int signal_fd);

}  // namespace ticksplit::ctl
