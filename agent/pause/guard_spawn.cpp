// The agent's side of the guard: the pidfd it signals through, and starting it detached.
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "agent/pause/guard.hpp"

namespace ticksplit::agent::pause {
namespace {

// posix_spawn's attributes and file actions, destroyed on every return.
class SpawnAttr {
 public:
  SpawnAttr() : err_(::posix_spawnattr_init(&attr_)) {}
  ~SpawnAttr() {
    if (err_ == 0) ::posix_spawnattr_destroy(&attr_);
  }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  [[nodiscard]] int init_error() const { return err_; }
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_{};
  int err_;
};

class FileActions {
 public:
  FileActions() : err_(::posix_spawn_file_actions_init(&actions_)) {}
  ~FileActions() {
    if (err_ == 0) ::posix_spawn_file_actions_destroy(&actions_);
  }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  [[nodiscard]] int init_error() const { return err_; }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
  int err_;
};

// The copies handed to the spawn sit at or above this, clear of the targets 3, 4 and 5: no
// dup2 then overwrites a source a later one reads (a plan's report_fd could be 3), and none
// has its source equal to its target (which would leave close-on-exec set).
constexpr int copy_floor = 10;

}  // namespace

Result<Fd> open_pidfd(pid_t pid) {
  const auto fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
  if (fd < 0) return system_error("pidfd_open(" + std::to_string(pid) + ")", errno);
  return Fd(fd);
}

Result<pid_t> spawn_guard(const std::string& guard_path, const GuardPlan& plan) {
  if (plan.pidfd < 0 || plan.report_fd < 0 || plan.control_fd < 0 || plan.pid <= 0 || plan.end_ns <= plan.start_ns)
    return system_error("spawn_guard: a plan needs its three fds, a pid and end_ns > start_ns", EINVAL);

  // Close-on-exec copies: only the dup2s below make the three reach the guard.
  const int sources[3] = {plan.pidfd, plan.report_fd, plan.control_fd};
  Fd copies[3];
  for (int i = 0; i < 3; ++i) {
    copies[i].reset(::fcntl(sources[i], F_DUPFD_CLOEXEC, copy_floor));
    if (!copies[i].valid()) return system_error("spawn_guard: dup of fd " + std::to_string(sources[i]), errno);
  }

  SpawnAttr attr;
  if (attr.init_error() != 0) return system_error("posix_spawnattr_init", attr.init_error());
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  int e = ::posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (e == 0) e = ::posix_spawnattr_setsigmask(attr.get(), &none);
  if (e == 0) e = ::posix_spawnattr_setsigdefault(attr.get(), &defaults);
  if (e != 0) return system_error("posix_spawnattr_set*", e);

  FileActions actions;
  if (actions.init_error() != 0) return system_error("posix_spawn_file_actions_init", actions.init_error());
  e = ::posix_spawn_file_actions_adddup2(actions.get(), copies[0].get(), guard_pidfd);
  if (e == 0) e = ::posix_spawn_file_actions_adddup2(actions.get(), copies[1].get(), guard_report_fd);
  if (e == 0) e = ::posix_spawn_file_actions_adddup2(actions.get(), copies[2].get(), guard_control_fd);
  // Whatever else the agent has open (close-on-exec or not) stays behind.
  if (e == 0) e = ::posix_spawn_file_actions_addclosefrom_np(actions.get(), guard_control_fd + 1);
  // Detached: no terminal or pipe of the agent's on stdin and stdout, no directory held busy.
  if (e == 0) e = ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addchdir_np(actions.get(), "/");
  if (e != 0) return system_error("posix_spawn_file_actions_add*", e);

  std::string path = guard_path;
  std::string pid = std::to_string(plan.pid);
  std::string start = std::to_string(plan.start_ns);
  std::string end = std::to_string(plan.end_ns);
  char* argv[] = {path.data(), pid.data(), start.data(), end.data(), nullptr};
  pid_t guard = 0;
  // The environment is passed on: a sanitizer build's options reach the guard too.
  e = ::posix_spawn(&guard, path.c_str(), actions.get(), attr.get(), argv, environ);
  if (e != 0) return system_error("posix_spawn(" + guard_path + ")", e);
  return guard;
}

}  // namespace ticksplit::agent::pause
