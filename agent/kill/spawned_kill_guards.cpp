#include "agent/kill/spawned_kill_guards.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "agent/helper_path.hpp"
#include "agent/kill/guard.hpp"

namespace ticksplit::agent::kill {

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

SpawnedKillGuards::~SpawnedKillGuards() {
  for (pid_t pid : exiting_) (void)::waitpid(pid, nullptr, WNOHANG);
}

Result<fault::KillGuards::Handle> SpawnedKillGuards::launch(int pidfd, pid_t pid, std::uint64_t kill_ns,
                                                            std::uint64_t restart_ns, const std::string& command) {
  if (::access(path_.c_str(), X_OK) != 0) return system_error("no kill guard at " + path_, errno);
  auto report = make_pipe();
  if (!report) return report.error();
  auto control = make_pipe();
  if (!control) return control.error();
  if (auto s = nonblocking(report->read.get()); !s) return s.error();
  if (auto s = nonblocking(control->write.get()); !s) return s.error();
  KillPlan plan{pidfd,
                pid,
                kill_ns,
                restart_ns,
                restart_ns != 0 ? command.c_str() : nullptr,
                report->write.get(),
                control->read.get()};
  auto spawned = spawn_kill_guard(path_, plan);
  if (!spawned) return spawned.error();
  return Handle{std::move(report->read), std::move(control->write), *spawned};
}

void SpawnedKillGuards::reap(pid_t pid) {
  exiting_.push_back(pid);
  const auto gone = [](pid_t p) {
    const pid_t r = ::waitpid(p, nullptr, WNOHANG);
    return r == p || (r < 0 && errno == ECHILD);
  };
  // A guard exits right after its last line: up to 10 ms here (the engine's thread).
  for (int i = 0; i < 50 && !gone(pid); ++i) ::usleep(200);
  std::erase_if(exiting_, gone);
}

std::string default_kill_guard_path() { return helper_path("ticksplit-kill-guard"); }

}  // namespace ticksplit::agent::kill
