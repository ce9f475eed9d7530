// Running a plan against the agents: discover the cluster, arm every agent of a fault with
// one start_at_us, follow the events into the history, and sum up what happened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/client.hpp"
#include "controller/history.hpp"
#include "controller/plan.hpp"

namespace ticksplit::ctl {

// The app nodes and T the agents report. Error if an agent fails to answer, has not joined
// its node, or the agents disagree on net_ticktime or intensity.
Result<ClusterInfo> discover(AgentClient& client, const std::vector<std::string>& agents);

// What the run learned about one fault, for the summary.
struct NodeDown {
  std::string observer, peer, reason;
  std::int64_t after_us = 0;  // since the fault's window started
  bool cascade = false;       // the observer and the peer were not cut from each other
};
struct FaultOutcome {
  PlannedFault fault;
  std::string id;
  std::int64_t start_us = 0, end_us = 0;
  double arm_ms = 0;  // from deciding the fault to every agent's reply
  std::int64_t dropped_packets = 0;
  std::int64_t effective_outage_us = -1;  // -1: no agent saw traffic come back
  std::vector<NodeDown> nodedowns;
};

struct RunResult {
  int exit_code = 0;
  std::vector<FaultOutcome> faults;
};

// Runs the plan; stops early on SIGINT/SIGTERM (read from signal_fd: heal, close the
// history, 130/143) or on an agent failing (heal the others, 1, naming it).
RunResult run_plan(AgentClient& client, const ClusterInfo& cluster, const std::vector<PlannedStep>& plan,
                   std::uint64_t seed, History& history, int signal_fd);

// The table printed at the end of a run.
std::string summary(const std::vector<FaultOutcome>& faults, const ClusterInfo& cluster);

// Human-readable plan (ticksplit-ctl plan).
std::string describe_plan(const std::vector<PlannedStep>& plan, const ClusterInfo& cluster, std::uint64_t seed);

}  // namespace ticksplit::ctl
