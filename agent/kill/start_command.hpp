// Starting a node with its --node-start command: /bin/sh -c COMMAND in a session of its own,
// stdio on /dev/null, working directory /, an empty signal mask and default dispositions,
// the caller's environment and no other fd. The kill guard does it at the restart instant;
// the agent does it only when a guard died before it could. Header-only and libc only: the
// guard executable links nothing of ours.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <csignal>

extern char** environ;

namespace ticksplit::agent::kill {

// 0 and the child's pid in `child`, or the errno of what failed (posix_spawn reports a failed
// exec of /bin/sh too).
inline int spawn_start_command(const char* command, pid_t& child) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  if (const int e = ::posix_spawnattr_init(&attr); e != 0) return e;
  if (const int e = ::posix_spawn_file_actions_init(&actions); e != 0) {
    ::posix_spawnattr_destroy(&attr);
    return e;
  }
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  int e = ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (e == 0) e = ::posix_spawnattr_setsigmask(&attr, &none);
  if (e == 0) e = ::posix_spawnattr_setsigdefault(&attr, &defaults);
  if (e == 0) e = ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  if (e == 0) e = ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (e == 0) e = ::posix_spawn_file_actions_addchdir_np(&actions, "/");
  char sh[] = "/bin/sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, const_cast<char*>(command), nullptr};
  if (e == 0) e = ::posix_spawn(&child, sh, &actions, &attr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  return e;
}

}  // namespace ticksplit::agent::kill
