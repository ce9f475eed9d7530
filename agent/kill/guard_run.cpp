// run_kill_guard: the kill guard's own work, in ticksplit-kill-guard (the plan and the report
// are in guard.hpp). One poll(2) over a timerfd (the kill, then the exit's bound, then the
// restart, all absolute on CLOCK_MONOTONIC), a signalfd (SIGTERM, SIGINT, SIGHUP), the control
// pipe and the pidfd (readable once the node's process has exited). libc only, so it execs fast.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>

#include "agent/kill/guard.hpp"
#include "agent/kill/start_command.hpp"
#include "agent/pause/pidfd.hpp"

namespace ticksplit::agent::kill {
namespace {

constexpr std::uint64_t ns_per_s = 1'000'000'000;
constexpr std::size_t control_read = 64;
constexpr std::string_view end_word = "end";

std::uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * ns_per_s + static_cast<std::uint64_t>(ts.tv_nsec);
}

timespec to_timespec(std::uint64_t ns) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / ns_per_s);
  ts.tv_nsec = static_cast<long>(ns % ns_per_s);
  return ts;
}

class Guard {
 public:
  explicit Guard(const KillPlan& plan) : plan_(plan) {}

  int run() {
    if (const int rc = setup(); rc >= 0) return rc;
    pollfd fds[4] = {{signals_.get(), POLLIN, 0},
                     {plan_.control_fd, POLLIN, 0},
                     {plan_.pidfd, POLLIN, 0},
                     {timer_.get(), POLLIN, 0}};
    auto& [signal_pfd, control_pfd, process_pfd, timer_pfd] = fds;
    for (;;) {
      const int n = ::poll(fds, 4, -1);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return fail("wait", errno);
      }
      // Before the kill an early end cancels it; after, it brings the restart forward.
      const bool ended =
          (signal_pfd.revents != 0 && termination_signal()) || (control_pfd.revents != 0 && end_requested(control_pfd));
      if (ended) {
        if (phase_ == Phase::waiting) return cancel(signal_pfd.revents != 0 ? "signal" : "request");
        early_ = true;
        if (phase_ == Phase::down) return start();
      }
      if (process_pfd.revents != 0) {
        if (phase_ == Phase::waiting) return fail("start", ESRCH);
        if (phase_ == Phase::killed) {
          process_pfd.fd = -1;  // stays readable: poll(2) skips a negative fd
          if (const int rc = exited(); rc >= 0) return rc;
        }
      }
      if (timer_pfd.revents != 0 && timer_due()) {
        switch (phase_) {
          case Phase::waiting:
            if (const int rc = kill(); rc >= 0) return rc;
            break;
          case Phase::killed:
            return fail("exit", ETIMEDOUT);
          case Phase::down:
            return start();
        }
      }
    }
  }

 private:
  enum class Phase { waiting, killed, down };

  int setup() {
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail("setup", errno);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) ::signal(sig, SIG_DFL);
    signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_.valid()) return fail("setup", errno);
    timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!timer_.valid()) return fail("setup", errno);
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    // Real-time priority, best effort, as the pause guard (CAP_SYS_NICE): the kill lands on
    // time on a busy host. SCHED_RESET_ON_FORK: the node it starts runs at normal priority.
    sched_param rt{};
    rt.sched_priority = 1;
    ::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt);
    if (const int fl = ::fcntl(plan_.report_fd, F_GETFL); fl >= 0) ::fcntl(plan_.report_fd, F_SETFL, fl | O_NONBLOCK);
    const auto held = pause::pidfd_pid(plan_.pidfd);
    if (!held) return fail("setup", EBADF);
    if (*held == -1) return fail("start", ESRCH);  // reaped: never signalled
    if (*held != plan_.pid) return fail("setup", EINVAL);
    if (!arm(plan_.kill_ns == 0 ? 1 : plan_.kill_ns)) return fail("setup", errno);
    return -1;
  }

  bool arm(std::uint64_t at_ns) {
    itimerspec spec{};
    spec.it_value = to_timespec(at_ns);
    armed_ns_ = at_ns;
    return ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) == 0;
  }

  bool timer_due() {
    std::uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t n = ::read(timer_.get(), &expirations, sizeof expirations);
    return now_ns() >= armed_ns_;
  }

  int kill() {
    const std::uint64_t at = now_ns();
    if (pause::pidfd_signal(plan_.pidfd, SIGKILL) != 0) return fail("kill", errno);
    phase_ = Phase::killed;
    char buf[max_report_line];
    write_line(buf, std::snprintf(buf, sizeof buf, "killed %llu\n", static_cast<unsigned long long>(at)));
    // A process killed exits within microseconds unless the kernel holds it (D state, a
    // core dump); past the bound nothing is started.
    if (!arm(at + exit_wait_ns)) return fail("setup", errno);
    return -1;
  }

  // -1 while the restart is awaited; otherwise the exit code.
  int exited() {
    char buf[max_report_line];
    write_line(buf, std::snprintf(buf, sizeof buf, "exited %llu\n", static_cast<unsigned long long>(now_ns())));
    if (plan_.restart_ns == 0) return 0;
    phase_ = Phase::down;
    if (early_) return start();
    if (!arm(plan_.restart_ns)) return start();  // no timer: now rather than never
    return -1;
  }

  int cancel(const char* why) {
    char buf[max_report_line];
    write_line(buf,
               std::snprintf(buf, sizeof buf, "cancelled %llu %s\n", static_cast<unsigned long long>(now_ns()), why));
    return 0;
  }

  // The node lives on after the guard exits (adopted by init or the host's subreaper).
  int start() {
    ::prctl(PR_SET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);  // the default again: the node inherits it
    const std::uint64_t at = now_ns();
    pid_t child = 0;
    if (const int e = spawn_start_command(plan_.command, child); e != 0) return fail("spawn", e);
    char buf[max_report_line];
    write_line(buf, std::snprintf(buf, sizeof buf, "started %llu %d\n", static_cast<unsigned long long>(at),
                                  static_cast<int>(child)));
    return 0;
  }

  bool termination_signal() {
    signalfd_siginfo si{};
    return ::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si);
  }

  // Any bytes with "end" in them count, split across reads included; EOF (the agent is gone)
  // stops the watching and nothing else.
  bool end_requested(pollfd& control) {
    if ((control.revents & POLLNVAL) != 0) {
      control.fd = -1;
      return false;
    }
    char buf[end_word.size() - 1 + control_read];
    std::memcpy(buf, carry_, carried_);
    const ssize_t n = ::read(control.fd, buf + carried_, control_read);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
    if (n <= 0) {
      control.fd = -1;
      return false;
    }
    const std::string_view seen(buf, carried_ + static_cast<std::size_t>(n));
    if (seen.find(end_word) != std::string_view::npos) return true;
    carried_ = std::min(seen.size(), end_word.size() - 1);
    std::memcpy(carry_, seen.data() + seen.size() - carried_, carried_);
    return false;
  }

  int fail(const char* stage, int err) {
    char buf[max_report_line];
    write_line(buf, std::snprintf(buf, sizeof buf, "failed %s %d\n", stage, err));
    return 1;
  }

  void write_line(const char* buf, int len) const {
    if (len <= 0) return;
    while (::write(plan_.report_fd, buf, static_cast<std::size_t>(len)) < 0 && errno == EINTR) {
    }
  }

  const KillPlan& plan_;
  Fd signals_, timer_;
  std::uint64_t armed_ns_ = 0;
  Phase phase_ = Phase::waiting;
  bool early_ = false;  // an end came after the kill: start as soon as the process is gone
  char carry_[end_word.size() - 1] = {};
  std::size_t carried_ = 0;
};

}  // namespace

int run_kill_guard(const KillPlan& plan) { return Guard(plan).run(); }

}  // namespace ticksplit::agent::kill
