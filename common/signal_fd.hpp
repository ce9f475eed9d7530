// SIGTERM and SIGINT as a readable fd, for a poll loop (the agent's, the controller's run):
// blocked for the process, so they arrive only through the fd, never as a handler that could
// interrupt work in the middle (a fault armed on some agents and not yet on others).
#pragma once

#include "common/fd.hpp"

namespace ticksplit {

// Blocks SIGTERM and SIGINT and returns a non-blocking signalfd for them. Throws ConfigError if
// either cannot be done (a program that cannot stop cleanly should not start).
Fd termination_signal_fd();

}  // namespace ticksplit
