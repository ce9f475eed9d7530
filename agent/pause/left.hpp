// A pause an earlier agent left in its ledger, ended: by the agent at start-up (Agent's
// resume_left) and by `ticksplit-agent --cleanup`.
#pragma once

#include "agent/fault/engine.hpp"

namespace ticksplit::agent::pause {

struct LeftPauseEnded {
  bool guard_ended = false;  // its guard still ran, was told to end it (SIGTERM) and did within 200 ms
  bool resumed = false;      // the node was still stopped (its guard died with the agent): SIGCONT
};

// Only the very processes the ledger names: through pidfds opened before the checks, with the
// same start times; a pid now held by another process is left alone.
LeftPauseEnded end_left_pause(const fault::PausedProcess& left);

}  // namespace ticksplit::agent::pause
