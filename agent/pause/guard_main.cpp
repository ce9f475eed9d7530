// ticksplit-pause-guard PID START_NS END_NS: the pause guard's executable (guard.hpp). The
// agent starts it (spawn_guard) with a pidfd of PID at fd 3, the report pipe at fd 4 and the
// control pipe at fd 5. Every argument and fd is checked before anything is done: what the
// agent gives is never wrong, so anything else is refused (exit 2, a message on stderr)
// rather than half run.
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>

#include "agent/pause/decimal.hpp"
#include "agent/pause/guard.hpp"
#include "agent/pause/pidfd.hpp"

namespace {

using namespace ticksplit::agent::pause;

constexpr const char* usage =
    "usage: ticksplit-pause-guard PID START_NS END_NS\n"
    "Stops process PID (SIGSTOP) at START_NS and resumes it (SIGCONT) at END_NS, both\n"
    "CLOCK_MONOTONIC nanoseconds, END_NS > START_NS. Started by ticksplit-agent for a pause\n"
    "fault, with fd 3 a pidfd of PID, fd 4 the report pipe (written) and fd 5 the control pipe\n"
    "(read); not meant to be run by hand.\n";

int refuse(const char* why) {
  std::fprintf(stderr, "ticksplit-pause-guard: %s\n%s", why, usage);
  return 2;
}

// Open, and for `access` (O_RDONLY or O_WRONLY) or both.
bool open_for(int fd, int access) {
  const int fl = ::fcntl(fd, F_GETFL);
  return fl >= 0 && ((fl & O_ACCMODE) == O_RDWR || (fl & O_ACCMODE) == access);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc != 4) return refuse("expected three arguments");
  const auto pid = parse_decimal(argv[1], INT_MAX);
  const auto start = parse_decimal(argv[2]);
  const auto end = parse_decimal(argv[3]);
  if (!pid || *pid == 0) return refuse("PID is not a process id");
  if (!start) return refuse("START_NS is not a number of nanoseconds");
  if (!end) return refuse("END_NS is not a number of nanoseconds");
  if (*end <= *start) return refuse("END_NS is not after START_NS");

  // fd 3 must be a pidfd of PID, or of a process reaped since (its pid reads -1: the guard
  // then reports `failed start`): a pidfd of another process would have the guard signal one
  // process and watch another's state.
  const auto held = pidfd_pid(guard_pidfd);
  if (!held) return refuse("fd 3 is not a pidfd");
  if (*held != -1 && *held != static_cast<long>(*pid)) return refuse("fd 3 is not a pidfd of PID");
  if (!open_for(guard_report_fd, O_WRONLY)) return refuse("fd 4 is not open for writing");
  if (!open_for(guard_control_fd, O_RDONLY)) return refuse("fd 5 is not open for reading");

  GuardPlan plan;
  plan.pidfd = guard_pidfd;
  plan.pid = static_cast<pid_t>(*pid);
  plan.start_ns = *start;
  plan.end_ns = *end;
  plan.report_fd = guard_report_fd;
  plan.control_fd = guard_control_fd;
  return run_guard(plan);
}
