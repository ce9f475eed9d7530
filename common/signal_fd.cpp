#include "common/signal_fd.hpp"

#include <sys/signalfd.h>

#include <cerrno>
#include <csignal>

#include "common/error.hpp"

namespace ticksplit {

Fd termination_signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw ConfigError(system_error("sigprocmask", errno).message);
  Fd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) throw ConfigError(system_error("signalfd", errno).message);
  return fd;
}

}  // namespace ticksplit
