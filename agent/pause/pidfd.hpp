// pidfds through syscall(2): glibc 2.36 has wrappers but not every libc the agent meets does,
// and the syscall numbers are the kernel's own. Header-only: the guard executable links
// nothing of ours.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace ticksplit::agent::pause {

// pidfd_send_signal(2): 0, or -1 with errno (ESRCH once the process is reaped, whatever now
// holds its pid number).
inline int pidfd_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

// The pid that the pidfd `fd` refers to, as its /proc/self/fdinfo says: -1 once the process
// is reaped (its number may be another process's by now), 0 if it is not visible in this pid
// namespace. nullopt if `fd` is not a pidfd (no "Pid:" line) or cannot be read.
inline std::optional<long> pidfd_pid(int fd) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  const int info = ::open(path, O_RDONLY | O_CLOEXEC);
  if (info < 0) return std::nullopt;
  char buf[1024];  // a pidfd's fdinfo is ~100 bytes: pos, flags, mnt_id, ino, Pid, NSpid
  std::size_t len = 0;
  for (;;) {
    const ssize_t n = ::read(info, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<std::size_t>(n);
    if (len == sizeof buf - 1) break;
  }
  ::close(info);
  buf[len] = '\0';
  // "\nPid:\t" and not "Pid:\t": the NSpid line would match too.
  const char* p = std::strstr(buf, "\nPid:\t");
  if (p == nullptr) return std::nullopt;
  p += 6;
  const bool negative = *p == '-';
  if (negative) ++p;
  long v = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9' && digits < 10; ++p, ++digits) v = v * 10 + (*p - '0');
  if (digits == 0 || *p != '\n') return std::nullopt;
  return negative ? -v : v;
}

}  // namespace ticksplit::agent::pause
