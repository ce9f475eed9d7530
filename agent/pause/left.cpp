#include "agent/pause/left.hpp"

#include <poll.h>

#include <csignal>
#include <optional>

#include "agent/pause/guard.hpp"
#include "agent/pause/pidfd.hpp"
#include "agent/pause/proc_stat.hpp"

namespace ticksplit::agent::pause {

LeftPauseEnded end_left_pause(const fault::PausedProcess& left) {
  // The process `pid` was when the ledger was written, held by a pidfd; none if it is gone.
  const auto same = [](std::int64_t pid, std::uint64_t start_ticks) -> std::optional<Fd> {
    if (pid < 1 || pid > (std::int64_t{1} << 22)) return std::nullopt;
    auto fd = open_pidfd(static_cast<pid_t>(pid));
    const auto stat = read_proc_stat(static_cast<pid_t>(pid));
    // A zombie has exited (its new parent has not reaped it yet): nothing to end or resume.
    if (!fd || !stat || stat->start_ticks != start_ticks || stat->state == 'Z') return std::nullopt;
    return std::move(*fd);
  };
  LeftPauseEnded out;
  if (auto guard = same(left.guard_pid, left.guard_start_ticks)) {
    if (pidfd_signal(guard->get(), SIGTERM) == 0) {
      pollfd exited{guard->get(), POLLIN, 0};  // a pidfd is readable once its process exits
      out.guard_ended = ::poll(&exited, 1, 200) == 1;
    }
  }
  if (auto node = same(left.pid, left.start_ticks))
    if (const auto stat = read_proc_stat(static_cast<pid_t>(left.pid)); stat && stat->state == 'T')
      out.resumed = pidfd_signal(node->get(), SIGCONT) == 0;
  return out;
}

}  // namespace ticksplit::agent::pause
