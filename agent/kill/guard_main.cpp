// ticksplit-kill-guard PID KILL_NS RESTART_NS [COMMAND]: the kill guard's executable
// (guard.hpp). The agent starts it (spawn_kill_guard) with a pidfd of PID at fd 3, the report
// pipe at fd 4 and the control pipe at fd 5. Every argument and fd is checked before anything
// is done: anything the agent would not give is refused (exit 2, a message on stderr).
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>

#include "agent/kill/guard.hpp"
#include "agent/pause/decimal.hpp"
#include "agent/pause/pidfd.hpp"

namespace {

using namespace ticksplit::agent::kill;
using ticksplit::agent::pause::parse_decimal;
using ticksplit::agent::pause::pidfd_pid;

constexpr const char* usage =
    "usage: ticksplit-kill-guard PID KILL_NS RESTART_NS [COMMAND]\n"
    "SIGKILLs process PID at KILL_NS and, if RESTART_NS is not 0, runs /bin/sh -c COMMAND at\n"
    "RESTART_NS (>= KILL_NS) once PID has exited; both CLOCK_MONOTONIC nanoseconds. Started by\n"
    "ticksplit-agent for a kill_node fault, with fd 3 a pidfd of PID, fd 4 the report pipe\n"
    "(written) and fd 5 the control pipe (read); not meant to be run by hand.\n";

int refuse(const char* why) {
  std::fprintf(stderr, "ticksplit-kill-guard: %s\n%s", why, usage);
  return 2;
}

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
  if (argc != 4 && argc != 5) return refuse("expected three or four arguments");
  const auto pid = parse_decimal(argv[1], INT_MAX);
  const auto kill_ns = parse_decimal(argv[2]);
  const auto restart_ns = parse_decimal(argv[3]);
  if (!pid || *pid == 0) return refuse("PID is not a process id");
  if (!kill_ns) return refuse("KILL_NS is not a number of nanoseconds");
  if (!restart_ns) return refuse("RESTART_NS is not a number of nanoseconds");
  const bool restart = *restart_ns != 0;
  if (restart && *restart_ns < *kill_ns) return refuse("RESTART_NS is before KILL_NS");
  if (restart != (argc == 5)) return refuse("COMMAND is given exactly when RESTART_NS is not 0");
  if (restart && (argv[4][0] == '\0' || std::strlen(argv[4]) > max_command))
    return refuse("COMMAND is empty or too long");

  const auto held = pidfd_pid(guard_pidfd);
  if (!held) return refuse("fd 3 is not a pidfd");
  if (*held != -1 && *held != static_cast<long>(*pid)) return refuse("fd 3 is not a pidfd of PID");
  if (!open_for(guard_report_fd, O_WRONLY)) return refuse("fd 4 is not open for writing");
  if (!open_for(guard_control_fd, O_RDONLY)) return refuse("fd 5 is not open for reading");

  KillPlan plan;
  plan.pidfd = guard_pidfd;
  plan.pid = static_cast<pid_t>(*pid);
  plan.kill_ns = *kill_ns;
  plan.restart_ns = *restart_ns;
  plan.command = restart ? argv[4] : nullptr;
  plan.report_fd = guard_report_fd;
  plan.control_fd = guard_control_fd;
  return run_kill_guard(plan);
}
