// The pause guard: a process of its own per pause (ticksplit-pause-guard) that stops a local
// node's OS process (SIGSTOP) at the start of a window and resumes it (SIGCONT) at its end. It
// runs detached from the agent (its own session) so that the resume does not depend on the
// agent, which may be SIGKILLed mid-pause: the deadline holds whatever becomes of the agent.
//
// Two sides, two links: run_guard is the guard's own work (guard_run.cpp, in the executable,
// which links nothing but libc and libstdc++ so that it execs fast); spawn_guard, open_pidfd and
// parse_report_line are the agent's (guard_spawn.cpp, guard_report.cpp: ticksplit_pause).
//
// The report, one line per event, each written with a single write(2) (short lines: atomic
// on a pipe), numbers in decimal without leading zeros:
//   stopped <mono_ns> <confirm_ns>   SIGSTOP sent at mono_ns (CLOCK_MONOTONIC, read right before
//                                    pidfd_send_signal); confirm_ns: when /proc/<pid>/stat
//                                    first showed state T (looked at every ~100 µs for 100 ms),
//                                    0 if it never did (or the pause ended before it did)
//   resumed <mono_ns> <why>          SIGCONT sent at mono_ns; why: deadline (end_ns came),
//                                    request (the agent wrote "resume"), signal (the guard got
//                                    SIGTERM, SIGINT or SIGHUP: it resumes at once, then exits)
//   failed <stage> <errno>           the guard could not do its work and exits non-zero
// A `resumed` line WITHOUT a `stopped` line before it means the pause ended (request or signal)
// before its start: the node was never stopped and no SIGCONT was sent; mono_ns is when the
// guard gave up. The failed stages:
//   setup   the guard could not build its timer or signalfd, or a fd is not what it should be;
//           nothing was stopped
//   wait    poll(2) failed before the start; nothing was stopped
//   start   the node's process was gone before the start (errno ESRCH): it exited (even as a
//           zombie not yet reaped) or the pidfd's process is reaped (its pid may be another's)
//   stop    SIGSTOP failed: ESRCH (the node is gone), EPERM (no CAP_KILL over it)
//   exited  the node's process exited while stopped (errno ESRCH); nothing to resume
//   resume  SIGCONT failed (ESRCH: the node exited in the meantime)
// The exit code: 0 after `resumed`, 1 after `failed`, 2 for bad arguments (ticksplit-pause-guard
// refuses them before anything else). The report pipe's EOF means the guard has exited, or is
// about to: the agent reaps it then (waitpid).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ticksplit::agent::pause {

struct GuardPlan {
  int pidfd = -1;              // the node's process, from pidfd_open(2): the guard signals only through it, so
                               // a reused pid is never signalled
  pid_t pid = 0;               // the same process, for reading /proc/<pid>/stat only
  std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC: SIGSTOP at this instant (at once if past)
  std::uint64_t end_ns = 0;    // CLOCK_MONOTONIC: SIGCONT at this instant at the latest (> start_ns)
  int report_fd = -1;          // write end of a pipe: what happened, one line each (above)
  int control_fd = -1;         // read end of a pipe: "resume" ends the pause early; EOF (the agent is gone)
                               // changes nothing: the deadline still holds
};

// In the guard process: runs the plan to its end, returns the exit code. It takes over the
// process's signals (SIGPIPE ignored: a report the agent no longer reads is dropped;
// SIGTERM, SIGINT, SIGHUP blocked and read from a signalfd) and its timer slack.
int run_guard(const GuardPlan& plan);

// The guard's fixed fds: ticksplit-pause-guard takes the plan's three fds at these numbers
// and the numbers (pid, start_ns, end_ns) on its command line.
inline constexpr int guard_pidfd = 3;
inline constexpr int guard_report_fd = 4;
inline constexpr int guard_control_fd = 5;

// Spawns `guard_path` (ticksplit-pause-guard, an absolute path) detached: its own session
// (POSIX_SPAWN_SETSID), an empty signal mask (the agent blocks signals for its signalfd and a
// child would inherit that), default SIGTERM, SIGINT, SIGHUP and SIGPIPE, working directory /,
// stdin and stdout on /dev/null, stderr the agent's (the guard writes there only when it
// refuses its arguments), the plan's three fds at 3, 4 and 5 and no other fd. The caller keeps
// its fds (they are duplicated): it closes its copies of the report pipe's write end and of
// the control pipe's read end afterwards, or it would never see the report's EOF. Returns the
// guard's pid; the caller reaps it with waitpid once the report pipe reaches EOF.
Result<pid_t> spawn_guard(const std::string& guard_path, const GuardPlan& plan);

// pidfd_open(2) (close-on-exec, as the kernel always makes a pidfd).
Result<Fd> open_pidfd(pid_t pid);

// One report line, parsed (for the agent). `detail`:
//   stopped: confirm_ns in decimal as the guard wrote it ("0": never seen stopped)
//   resumed: the why (deadline, request, signal)
//   failed:  "<stage> <errno>" as written (at_ns is 0: the line carries no time)
struct Report {
  enum class Kind { stopped, resumed, failed } kind = Kind::failed;
  std::uint64_t at_ns = 0;
  std::string detail;
};

// Exact: the line as the guard writes it, with or without its one '\n', at most
// max_report_line bytes; anything else (unknown words, extra spaces, signs, leading zeros,
// overflow, a confirm before the stop, errno outside 1..4095) is nullopt.
inline constexpr std::size_t max_report_line = 80;
std::optional<Report> parse_report_line(std::string_view line);

}  // namespace ticksplit::agent::pause
