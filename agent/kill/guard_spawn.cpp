// The agent's side of the kill guard: starting it detached, as the pause guard is started
// (agent/pause/guard_spawn.cpp; the same posix_spawn recipe, with its own argument list).
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "agent/kill/guard.hpp"

namespace ticksplit::agent::kill {
namespace {

// posix_spawn's attributes and file actions, destroyed on every return.
struct SpawnAttr {
  posix_spawnattr_t attr{};
  int err = ::posix_spawnattr_init(&attr);
  SpawnAttr() = default;
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  ~SpawnAttr() {
    if (err == 0) ::posix_spawnattr_destroy(&attr);
  }
};
struct FileActions {
  posix_spawn_file_actions_t actions{};
  int err = ::posix_spawn_file_actions_init(&actions);
  FileActions() = default;
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  ~FileActions() {
    if (err == 0) ::posix_spawn_file_actions_destroy(&actions);
  }
};

// The copies handed to the spawn sit clear of the targets 3, 4 and 5 (see the pause guard's).
constexpr int copy_floor = 10;

}  // namespace

Result<pid_t> spawn_kill_guard(const std::string& guard_path, const KillPlan& plan) {
  const bool restart = plan.restart_ns != 0;
  if (plan.pidfd < 0 || plan.report_fd < 0 || plan.control_fd < 0 || plan.pid <= 0 ||
      (restart && plan.restart_ns < plan.kill_ns) || restart != (plan.command != nullptr) ||
      (restart && (plan.command[0] == '\0' || std::strlen(plan.command) > max_command)))
    return system_error("spawn_kill_guard: a plan needs its three fds, a pid, and a command exactly with a restart",
                        EINVAL);

  const int sources[3] = {plan.pidfd, plan.report_fd, plan.control_fd};
  Fd copies[3];
  for (int i = 0; i < 3; ++i) {
    copies[i].reset(::fcntl(sources[i], F_DUPFD_CLOEXEC, copy_floor));
    if (!copies[i].valid()) return system_error("spawn_kill_guard: dup of fd " + std::to_string(sources[i]), errno);
  }

  SpawnAttr attr;
  if (attr.err != 0) return system_error("posix_spawnattr_init", attr.err);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  int e = ::posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (e == 0) e = ::posix_spawnattr_setsigmask(&attr.attr, &none);
  if (e == 0) e = ::posix_spawnattr_setsigdefault(&attr.attr, &defaults);
  if (e != 0) return system_error("posix_spawnattr_set*", e);

  FileActions fa;
  if (fa.err != 0) return system_error("posix_spawn_file_actions_init", fa.err);
  e = ::posix_spawn_file_actions_adddup2(&fa.actions, copies[0].get(), guard_pidfd);
  if (e == 0) e = ::posix_spawn_file_actions_adddup2(&fa.actions, copies[1].get(), guard_report_fd);
  if (e == 0) e = ::posix_spawn_file_actions_adddup2(&fa.actions, copies[2].get(), guard_control_fd);
  if (e == 0) e = ::posix_spawn_file_actions_addclosefrom_np(&fa.actions, guard_control_fd + 1);
  if (e == 0) e = ::posix_spawn_file_actions_addopen(&fa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addopen(&fa.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addchdir_np(&fa.actions, "/");
  if (e != 0) return system_error("posix_spawn_file_actions_add*", e);

  std::string path = guard_path;
  std::string pid = std::to_string(plan.pid);
  std::string kill_at = std::to_string(plan.kill_ns);
  std::string restart_at = std::to_string(plan.restart_ns);
  std::string command = restart ? plan.command : "";
  char* argv[] = {path.data(), pid.data(), kill_at.data(), restart_at.data(), restart ? command.data() : nullptr,
                  nullptr};
  pid_t guard = 0;
  e = ::posix_spawn(&guard, path.c_str(), &fa.actions, &attr.attr, argv, environ);
  if (e != 0) return system_error("posix_spawn(" + guard_path + ")", e);
  return guard;
}

}  // namespace ticksplit::agent::kill
