#include "agent/pause/spawned_guards.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "agent/helper_path.hpp"
#include "agent/pause/guard.hpp"
#include "agent/pause/proc_stat.hpp"

namespace ticksplit::agent::pause {

namespace {

struct Pipe {
  Fd read, write;
};
Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}
Status nonblocking(int fd) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return system_error("fcntl O_NONBLOCK", errno);
  return success();
}

}  // namespace

SpawnedGuards::~SpawnedGuards() {
  for (pid_t pid : exiting_) (void)::waitpid(pid, nullptr, WNOHANG);
}

Result<fault::Guards::Handle> SpawnedGuards::launch(int pidfd, pid_t pid, std::uint64_t start_ns,
                                                     std::uint64_t end_ns) {
  if (::access(path_.c_str(), X_OK) != 0) return system_error("no pause guard at " + path_, errno);
  auto report = make_pipe();
  if (!report) return report.error();
  auto control = make_pipe();
  if (!control) return control.error();
  // The agent's ends never block it: the guard's lines are read when due, and "resume" fits.
  if (auto s = nonblocking(report->read.get()); !s) return s.error();
  if (auto s = nonblocking(control->write.get()); !s) return s.error();
  GuardPlan plan{pidfd, pid, start_ns, end_ns, report->write.get(), control->read.get()};
  auto spawned = spawn_guard(path_, plan);
  if (!spawned) return spawned.error();
  const auto stat = read_proc_stat(*spawned);  // our child: its /proc entry stays until we reap it
  // Our copies of the guard's ends go now (the Fds close them): the report's EOF then means
  // the guard is gone.
  return Handle{std::move(report->read), std::move(control->write), *spawned, stat ? stat->start_ticks : 0};
}

void SpawnedGuards::reap(pid_t pid) {
  exiting_.push_back(pid);
  const auto gone = [](pid_t p) {
    const pid_t r = ::waitpid(p, nullptr, WNOHANG);
    return r == p || (r < 0 && errno == ECHILD);
  };
  // A guard exits right after its last line: give it up to 10 ms (this is the engine's thread,
  // not the loop); one still there is tried again at the next end, and at destruction.
  for (int i = 0; i < 50 && !gone(pid); ++i) ::usleep(200);
  std::erase_if(exiting_, gone);
}

std::string default_guard_path() { return helper_path("ticksplit-pause-guard"); }

}  // namespace ticksplit::agent::pause
