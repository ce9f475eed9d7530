// The kill guard: a process of its own per kill_node fault (ticksplit-kill-guard) that SIGKILLs
// a local node's OS process at an instant, waits for it to exit and, if asked, starts the node
// again at a later instant with a command (/bin/sh -c CMD, the agent's --node-start). It runs
// detached from the agent (its own session), so that the restart does not depend on the agent,
// which may be SIGKILLed between the kill and the restart.
//
// Two sides, as the pause guard (agent/pause/guard.hpp): run_kill_guard is the guard's own work
// (guard_run.cpp, in the executable, libc only); spawn_kill_guard and parse_kill_report_line
// are the agent's (guard_spawn.cpp, guard_report.cpp: ticksplit_kill).
//
// The report, one line per event, each written with a single write(2), numbers in decimal
// without leading zeros:
//   killed <mono_ns>               SIGKILL sent at mono_ns (CLOCK_MONOTONIC, read right before
//                                  pidfd_send_signal)
//   exited <mono_ns>               the pidfd turned readable at mono_ns: the process exited
//                                  (a zombie not yet reaped counts: it holds nothing but its pid).
//                                  The last line of a kill without restart.
//   started <mono_ns> <pid>        the start command was spawned at mono_ns (posix_spawn of
//                                  /bin/sh -c CMD succeeded: the exec happened) as process pid.
//                                  The last line of a kill with restart.
//   cancelled <mono_ns> <why>      ended before the kill, nothing killed; why: request (the agent
//                                  wrote "end"), signal (SIGTERM, SIGINT, SIGHUP)
//   failed <stage> <errno>         the guard could not do its work and exits non-zero:
//     setup   the timer, the signalfd, or a fd is not what it should be; nothing was killed
//     wait    poll(2) failed
//     start   the node's process was gone before the kill (ESRCH)
//     kill    SIGKILL failed: ESRCH (the node is gone), EPERM (no CAP_KILL over it)
//     exit    the process had not exited 10 s after SIGKILL (ETIMEDOUT: stuck in the kernel);
//             nothing is started, a second node would not get the name
//     spawn   the start command could not be spawned (errno of posix_spawn)
// After `killed`, an early end ("end" on the control pipe, or a termination signal) starts the
// node at once (once the old process has exited) instead of at its instant: every fault ends,
// early or on time, with its node back. The exit code: 0 after `exited` (no restart), `started`
// or `cancelled`; 1 after `failed`; 2 for bad arguments.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ticksplit::agent::kill {

struct KillPlan {
  int pidfd = -1;                 // the node's process, from pidfd_open(2): signalled and watched only through it
  pid_t pid = 0;                  // the same process (the command line names it; nothing reads /proc)
  std::uint64_t kill_ns = 0;      // CLOCK_MONOTONIC: SIGKILL at this instant (at once if past)
  std::uint64_t restart_ns = 0;   // CLOCK_MONOTONIC: start the command at this instant (>= kill_ns); 0: no restart
  const char* command = nullptr;  // /bin/sh -c command; null exactly when restart_ns is 0
  int report_fd = -1;             // write end of a pipe: what happened, one line each (above)
  int control_fd = -1;            // read end of a pipe: "end" ends the fault early; EOF changes nothing
};

// In the guard process: runs the plan to its end, returns the exit code.
int run_kill_guard(const KillPlan& plan);

inline constexpr int guard_pidfd = 3;
inline constexpr int guard_report_fd = 4;
inline constexpr int guard_control_fd = 5;
// How long after SIGKILL the process must have exited before anything is started.
inline constexpr std::uint64_t exit_wait_ns = 10'000'000'000;
// The start command's bound (the agent refuses a longer --node-start at start-up).
inline constexpr std::size_t max_command = 4096;

// Spawns `guard_path` (ticksplit-kill-guard, absolute) detached, as spawn_guard does for the
// pause guard: its own session, an empty signal mask, default dispositions, working directory /,
// stdin and stdout on /dev/null, stderr the agent's, the plan's three fds at 3, 4 and 5 and no
// other. Returns the guard's pid; the caller reaps it once the report pipe reaches EOF.
Result<pid_t> spawn_kill_guard(const std::string& guard_path, const KillPlan& plan);

// One report line, parsed (for the agent). `pid`: started's; `detail`: cancelled's why, or
// failed's "<stage> <errno>".
struct KillReport {
  enum class Kind { killed, exited, started, cancelled, failed } kind = Kind::failed;
  std::uint64_t at_ns = 0;
  std::int64_t pid = 0;
  std::string detail;
};

// Exact: the line as the guard writes it, with or without its one '\n', at most
// max_report_line bytes; anything else is nullopt.
inline constexpr std::size_t max_report_line = 80;
std::optional<KillReport> parse_kill_report_line(std::string_view line);

}  // namespace ticksplit::agent::kill
