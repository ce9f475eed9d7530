// A stress's figures (docs/faults.md, "Stress"): read from an agent's evidence (as the runner
// keeps it and a history's fault_end carries it under "agents") into the outcome, and said in
// one line for the summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "controller/run/runner.hpp"

namespace ticksplit::ctl {

// Takes the figures of an agent's evidence if it has them (a stress's); anything else, or a
// malformed field, leaves the outcome as it was.
void read_stress_evidence(const nlohmann::json& agent_evidence, FaultOutcome& out);

// "stress: scheduler utilisation 12% before, 100% during, 3% after; probe round trips during
// the window: median 0.4 ms, max 2.1 ms", or empty if the outcome has no figures.
std::string stress_line(const FaultOutcome& f);

}  // namespace ticksplit::ctl
