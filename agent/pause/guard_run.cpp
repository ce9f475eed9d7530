// run_guard: the guard's own work, in ticksplit-pause-guard (the plan and the report are in
// guard.hpp). One poll(2) over a timerfd (the start, then the deadline, both absolute on
// CLOCK_MONOTONIC), a signalfd (SIGTERM, SIGINT, SIGHUP), the control pipe and the pidfd (it
// turns readable when the node's process exits). Everything here is libc and header-only
// C++: the executable links nothing of ours, not even libstdc++, so it execs fast.
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

#include "agent/pause/guard.hpp"
#include "agent/pause/pidfd.hpp"

namespace ticksplit::agent::pause {
namespace {

constexpr std::uint64_t ns_per_s = 1'000'000'000;
// After the stop, /proc/<pid>/stat is looked at this often until it shows T, for this long.
constexpr std::uint64_t confirm_every_ns = 100'000;
constexpr std::uint64_t confirm_for_ns = 100'000'000;
// What one read of the control pipe takes: the word is short, and a writer that floods the
// pipe with garbage costs one bounded read per turn, never the deadline (checked every turn).
constexpr std::size_t control_read = 64;
constexpr std::string_view resume_word = "resume";

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
  explicit Guard(const GuardPlan& plan) : plan_(plan) {}

  int run() {
    if (const int rc = setup(); rc >= 0) return rc;
    pollfd fds[4] = {{signals_.get(), POLLIN, 0},
                     {plan_.control_fd, POLLIN, 0},
                     {plan_.pidfd, POLLIN, 0},
                     {timer_.get(), POLLIN, 0}};
    auto& [signal_pfd, control_pfd, process_pfd, timer_pfd] = fds;
    for (;;) {
      // While the stop is unconfirmed the wait is short (ppoll: poll's timeout is whole ms).
      const timespec step = to_timespec(confirm_every_ns);
      const int n = ::ppoll(fds, 4, confirming_ ? &step : nullptr, nullptr);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        // Only ENOMEM is left: a stopped node still gets its deadline.
        return stopped_ ? resume_at_deadline_without_poll() : fail("wait", errno);
      }
      if (signal_pfd.revents != 0 && termination_signal()) return end("signal");
      if (control_pfd.revents != 0 && resume_requested(control_pfd)) return end("request");
      if (process_pfd.revents != 0) {
        // Exited, even as a zombie not yet reaped (a SIGSTOP to a zombie would "succeed").
        if (!stopped_) return fail("start", ESRCH);
        settle_confirm(0);
        return fail("exited", ESRCH);
      }
      if (timer_pfd.revents != 0 && timer_due()) {
        if (stopped_) return resume("deadline");
        if (const int rc = stop(); rc >= 0) return rc;
      }
      if (confirming_) check_confirm();
    }
  }

 private:
  // -1 when the guard is ready to wait; otherwise the exit code, the failure reported.
  int setup() {
    // A report the agent no longer reads (it died: EPIPE) is dropped; the guard goes on.
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail("setup", errno);
    // Back to the default disposition, now harmless (blocked): an ignored signal is discarded
    // when it is sent and never reaches the signalfd, and the guard does not trust whoever
    // started it to have reset them.
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) ::signal(sig, SIG_DFL);
    signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_.valid()) return fail("setup", errno);
    timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!timer_.valid()) return fail("setup", errno);
    // The default slack (50 µs) would be added to every wake-up, the deadline's included.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    // Real-time priority, best effort (it needs CAP_SYS_NICE, which the agent has as root):
    // on a busy host a normal process wakes late. With three busy loops on two CPUs, 600
    // pauses each way, the resume came at most 0.92 ms after the deadline with SCHED_FIFO,
    // up to 4.3 ms at normal priority. The guard sleeps but for a few µs per event, so it
    // takes next to nothing from the node or anyone else; without the capability it runs as
    // it is.
    sched_param rt{};
    rt.sched_priority = 1;
    ::sched_setscheduler(0, SCHED_FIFO, &rt);
    // A report must never block the guard (the agent stopped reading): a line is dropped rather.
    if (const int fl = ::fcntl(plan_.report_fd, F_GETFL); fl >= 0) ::fcntl(plan_.report_fd, F_SETFL, fl | O_NONBLOCK);

    // Which process /proc/<pid>/stat shows: the fd opened while the pidfd's process still
    // holds the pid (its fdinfo says so after the open) is that process's for as long as it
    // is open (a reused pid is another /proc entry; reads of this one fail with ESRCH).
    char path[40];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(plan_.pid));
    stat_.reset(::open(path, O_RDONLY | O_CLOEXEC));
    const int open_errno = errno;
    const auto held = pidfd_pid(plan_.pidfd);
    if (!held) return fail("setup", EBADF);        // not a pidfd
    if (*held == -1) return fail("start", ESRCH);  // reaped: never signalled, whoever has its pid now
    if (*held != plan_.pid) return fail("setup", EINVAL);
    if (!stat_.valid()) return fail("setup", open_errno);

    // 0 would disarm the timer: a start at 0 is "at once", as any past instant.
    if (!arm(plan_.start_ns == 0 ? 1 : plan_.start_ns)) return fail("setup", errno);
    return -1;
  }

  bool arm(std::uint64_t at_ns) {
    itimerspec spec{};
    spec.it_value = to_timespec(at_ns);
    armed_ns_ = at_ns;
    return ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) == 0;
  }

  // The timer's readiness, checked against the clock: the guard never acts early.
  bool timer_due() {
    std::uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t n = ::read(timer_.get(), &expirations, sizeof expirations);
    return now_ns() >= armed_ns_;
  }

  // -1 when stopped (the wait goes on); otherwise the exit code, the failure reported.
  int stop() {
    // The deadline is armed before the stop: a stopped node is never without it. A deadline
    // already past resumes it on the next turn.
    if (!arm(plan_.end_ns)) return fail("setup", errno);
    const std::uint64_t at = now_ns();
    if (pidfd_signal(plan_.pidfd, SIGSTOP) != 0) return fail("stop", errno);
    stopped_ = true;
    stopped_ns_ = at;
    confirming_ = true;
    check_confirm();  // often stopped already: a sleeping process stops at once
    return -1;
  }

  int resume(const char* why) {
    const std::uint64_t at = now_ns();
    const int rc = pidfd_signal(plan_.pidfd, SIGCONT);
    const int err = errno;
    settle_confirm(0);  // after the SIGCONT: the `stopped` line must come first, the node must not wait for it
    if (rc != 0) return fail("resume", err);
    char line[max_report_line];
    write_line(line, std::snprintf(line, sizeof line, "resumed %llu %s\n", static_cast<unsigned long long>(at), why));
    return 0;
  }

  // The pause ends early (request, signal): resumed if it was stopped; otherwise it never will
  // be, and `resumed` comes without a `stopped` line and without a SIGCONT.
  int end(const char* why) {
    if (stopped_) return resume(why);
    char line[max_report_line];
    write_line(line,
               std::snprintf(line, sizeof line, "resumed %llu %s\n", static_cast<unsigned long long>(now_ns()), why));
    return 0;
  }

  // poll(2) failed while the node is stopped: the deadline by a plain absolute sleep.
  int resume_at_deadline_without_poll() {
    const timespec until = to_timespec(plan_.end_ns);
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
    return resume("deadline");
  }

  bool termination_signal() {
    signalfd_siginfo si{};
    return ::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si);
  }

  // Any bytes with "resume" in them count, the word split across reads included (the last
  // bytes of one read are kept for the next); anything else is ignored. EOF or an error stops
  // the watching and nothing else: the deadline holds without the agent.
  bool resume_requested(pollfd& control) {
    if ((control.revents & POLLNVAL) != 0) {
      control.fd = -1;
      return false;
    }
    char buf[resume_word.size() - 1 + control_read];
    std::memcpy(buf, carry_, carried_);
    const ssize_t n = ::read(control.fd, buf + carried_, control_read);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
    if (n <= 0) {
      control.fd = -1;  // poll(2) skips a negative fd
      return false;
    }
    const std::string_view seen(buf, carried_ + static_cast<std::size_t>(n));
    if (seen.find(resume_word) != std::string_view::npos) return true;
    carried_ = std::min(seen.size(), resume_word.size() - 1);
    std::memcpy(carry_, seen.data() + seen.size() - carried_, carried_);
    return false;
  }

  bool shows_stopped() const {
    char buf[512];
    const ssize_t n = ::pread(stat_.get(), buf, sizeof buf, 0);
    if (n <= 0) return false;
    // "pid (comm) S ...": comm may hold spaces and ')'; the fields after it hold neither.
    const std::string_view s(buf, static_cast<std::size_t>(n));
    const auto paren = s.rfind(')');
    return paren != std::string_view::npos && paren + 2 < s.size() && s[paren + 2] == 'T';
  }

  void check_confirm() {
    if (shows_stopped())
      settle_confirm(now_ns());
    else if (now_ns() - stopped_ns_ >= confirm_for_ns)
      settle_confirm(0);
  }

  // Writes the `stopped` line once, when the confirmation is settled (or given up).
  void settle_confirm(std::uint64_t confirm_ns) {
    if (!confirming_) return;
    confirming_ = false;
    char line[max_report_line];
    write_line(line,
               std::snprintf(line, sizeof line, "stopped %llu %llu\n", static_cast<unsigned long long>(stopped_ns_),
                             static_cast<unsigned long long>(confirm_ns)));
  }

  int fail(const char* stage, int err) {
    char line[max_report_line];
    write_line(line, std::snprintf(line, sizeof line, "failed %s %d\n", stage, err));
    return 1;
  }

  // One write(2) per line; a failure (EPIPE: the agent is gone, EAGAIN: it stopped reading)
  // drops the line.
  void write_line(const char* line, int len) const {
    if (len <= 0) return;
    while (::write(plan_.report_fd, line, static_cast<std::size_t>(len)) < 0 && errno == EINTR) {
    }
  }

  const GuardPlan& plan_;
  Fd signals_, timer_, stat_;
  std::uint64_t armed_ns_ = 0;
  bool stopped_ = false;
  bool confirming_ = false;  // stopped, the `stopped` line not written yet
  std::uint64_t stopped_ns_ = 0;
  char carry_[resume_word.size() - 1] = {};
  std::size_t carried_ = 0;
};

}  // namespace

int run_guard(const GuardPlan& plan) { return Guard(plan).run(); }

}  // namespace ticksplit::agent::pause
