// /proc/<pid>/stat, as much as pauses need: the process's state (T: stopped) and its start
// time (field 22, in clock ticks since boot), by which the ledger tells a reused pid from the
// node's process. Header-only and libc only.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ticksplit::agent::pause {

struct ProcStat {
  char state = '?';
  std::uint64_t start_ticks = 0;
};

// The text of one stat file: "pid (comm) S ppid ...". comm may hold spaces and parentheses,
// so the fields start after the LAST ')'.
inline std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const auto close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return std::nullopt;
  std::string_view rest = text.substr(close + 2);  // from field 3, the state
  ProcStat out;
  out.state = rest[0];
  // fields 3..22: the state is field 3, starttime field 22, so 19 spaces on
  int field = 3;
  std::size_t i = 0;
  for (; i < rest.size() && field < 22; ++i)
    if (rest[i] == ' ') ++field;
  if (field != 22) return std::nullopt;
  std::uint64_t v = 0;
  std::size_t digits = 0;
  for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && digits < 20; ++i, ++digits)
    v = v * 10 + static_cast<std::uint64_t>(rest[i] - '0');
  if (digits == 0) return std::nullopt;
  out.start_ticks = v;
  return out;
}

inline std::optional<ProcStat> read_proc_stat(pid_t pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];  // comm is at most 16 bytes; the whole line is well under this
  const auto n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_proc_stat(std::string_view(buf, static_cast<std::size_t>(n)));
}

// Why `pid` is not a BEAM node's emulator in this agent's network namespace, or nullopt if it
// is one. The pid comes from the node's own word (os:getpid()): a node in another pid namespace
// names a number that is some other process here, and a node that lies could name any.
inline std::optional<std::string> not_a_local_beam(pid_t pid) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/comm", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("no process ") + std::to_string(pid) + " here";
  char comm[32] = {};
  const auto n = ::read(fd, comm, sizeof comm - 1);
  ::close(fd);
  if (n <= 0 || std::strncmp(comm, "beam", 4) != 0)
    return "process " + std::to_string(pid) + " is not a BEAM emulator (another pid namespace?)";
  // Not /proc/<pid>/ns/net: reading that link is a ptrace check, which an agent that dropped its
  // capabilities fails for a node holding more (a root node) or running as another user. Each
  // network namespace has its own /proc/net entries, each with an inode number of its own, and
  // /proc/<pid>/net shows the process's namespace to anyone: the same `dev` entry is the same
  // namespace (docs/kernel.md, Privileges).
  struct stat theirs{}, ours{};
  std::snprintf(path, sizeof path, "/proc/%d/net/dev", static_cast<int>(pid));
  if (::stat(path, &theirs) != 0 || ::stat("/proc/self/net/dev", &ours) != 0 || theirs.st_ino != ours.st_ino ||
      theirs.st_dev != ours.st_dev)
    return "process " + std::to_string(pid) + " is not in this agent's network namespace";
  return std::nullopt;
}

}  // namespace ticksplit::agent::pause
