// The pause guard with real processes: `sleep 30` children stopped and resumed by the real
// ticksplit-pause-guard (its path: TICKSPLIT_PAUSE_GUARD_PATH), spawned by spawn_guard as the
// agent will. No root: a process may signal its own children.
//
// Unlike the other unit tests these wait on real time (the guard is about real time): windows
// of 100-300 ms, about 3 s in all. The bounds on how late something may happen are marked
// TIMING and scaled by TICKSPLIT_TIMING_SCALE (default 1; scripts/test --sanitize sets 3); the
// bounds on order (never before the start, never before the deadline) are exact.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "agent/pause/guard.hpp"
#include "common/fd.hpp"

using namespace ticksplit;
using namespace ticksplit::agent::pause;

namespace {

constexpr std::uint64_t ms = 1'000'000;

std::uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_until(std::uint64_t at_ns) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(at_ns / 1'000'000'000u);
  ts.tv_nsec = static_cast<long>(at_ns % 1'000'000'000u);
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// TIMING: a latency bound, scaled for slow builds (ASan).
std::uint64_t timing(std::uint64_t ns) {
  const char* s = std::getenv("TICKSPLIT_TIMING_SCALE");
  const long k = s != nullptr ? std::atol(s) : 1;
  return ns * static_cast<std::uint64_t>(k > 0 ? k : 1);
}

// How far ahead a pause starts: time for the guard to exec and set up before it.
std::uint64_t lead() { return timing(100 * ms); }

// A child process, killed and reaped however the test ends.
class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = 0; }
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { kill_and_reap(); }

  [[nodiscard]] pid_t pid() const { return pid_; }
  void kill_and_reap() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
  }
  // Its wait status once it has exited (then reaped), nullopt if it has not by `deadline_ns`.
  std::optional<int> wait_exit(std::uint64_t deadline_ns) {
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = 0;
        return status;
      }
      if (now_ns() >= deadline_ns) return std::nullopt;
      ::usleep(1000);
    }
  }
  // Whether it has ever stopped or continued (WNOWAIT: the event stays for a later look).
  [[nodiscard]] bool ever_stopped_or_continued() const {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) != 0) return false;
    return info.si_pid == pid_;
  }

 private:
  pid_t pid_ = 0;
};

Child start_sleeper() {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return Child(pid);
}

// The state letter of /proc/<pid>/stat ('T': stopped), or '?' if it cannot be read.
char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  const auto paren = s.rfind(')');
  return paren != std::string::npos && paren + 2 < s.size() ? s[paren + 2] : '?';
}

// A line of /proc/<pid>/status ("SigBlk:" → its value), "" if absent.
std::string status_field(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", name.size() + 1));
  return "";
}

std::uint64_t sigbit(int sig) { return std::uint64_t{1} << (sig - 1); }

std::string link_of(const std::string& path) {
  char buf[256];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A guard as the agent holds it: the report's read end, the control's write end, the process.
struct RunningGuard {
  Fd report;
  Fd control;
  Child process;
  std::string pending;

  // The next report line (without its '\n'), nullopt at EOF or if none by `deadline_ns`.
  std::optional<std::string> next_line(std::uint64_t deadline_ns) {
    for (;;) {
      if (const auto nl = pending.find('\n'); nl != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return line;
      }
      const std::uint64_t now = now_ns();
      if (now >= deadline_ns) return std::nullopt;
      pollfd p{report.get(), POLLIN, 0};
      const int wait_ms = static_cast<int>((deadline_ns - now) / ms) + 1;
      if (::poll(&p, 1, wait_ms) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(report.get(), buf, sizeof buf);
      if (n == 0) return std::nullopt;
      if (n > 0) pending.append(buf, static_cast<std::size_t>(n));
    }
  }
  // The next line, parsed; fails the test if there is none or it does not parse.
  Report next_report(std::uint64_t deadline_ns) {
    const auto line = next_line(deadline_ns);
    REQUIRE_MESSAGE(line.has_value(), "no report line from the guard");
    const auto r = parse_report_line(*line);
    REQUIRE_MESSAGE(r.has_value(), "unparsable report line: " << *line);
    return *r;
  }
  // The guard's exit code once it has exited (the report at EOF first).
  int exit_code() {
    CHECK_FALSE(next_line(now_ns() + 2000 * ms).has_value());
    const auto status = process.wait_exit(now_ns() + 2000 * ms);
    REQUIRE(status.has_value());
    REQUIRE(WIFEXITED(*status));
    return WEXITSTATUS(*status);
  }
};

RunningGuard launch(const Fd& pidfd, pid_t pid, std::uint64_t start_ns, std::uint64_t end_ns) {
  int rp[2], cp[2];
  REQUIRE(::pipe2(rp, O_CLOEXEC) == 0);
  Fd report_r(rp[0]), report_w(rp[1]);
  REQUIRE(::pipe2(cp, O_CLOEXEC) == 0);
  Fd control_r(cp[0]), control_w(cp[1]);
  GuardPlan plan;
  plan.pidfd = pidfd.get();
  plan.pid = pid;
  plan.start_ns = start_ns;
  plan.end_ns = end_ns;
  plan.report_fd = report_w.get();
  plan.control_fd = control_r.get();
  auto spawned = spawn_guard(TICKSPLIT_PAUSE_GUARD_PATH, plan);
  REQUIRE_MESSAGE(spawned.ok(), (spawned.ok() ? "" : spawned.error().describe()));
  // report_w and control_r close here: the guard holds its own, so EOF means the guard is gone.
  return RunningGuard{std::move(report_r), std::move(control_w), Child(*spawned), {}};
}

Fd pidfd_of(const Child& c) {
  auto fd = open_pidfd(c.pid());
  REQUIRE_MESSAGE(fd.ok(), (fd.ok() ? "" : fd.error().describe()));
  return std::move(*fd);
}

void write_control(RunningGuard& g, const std::string& bytes) {
  REQUIRE(::write(g.control.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

// The node shows T while its window lasts. A read counts only if it surely fell inside the
// window: a test woken late on a busy host may read after the deadline.
void check_stopped_until(pid_t pid, std::uint64_t end_ns) {
  const char state = state_of(pid);
  if (now_ns() < end_ns) CHECK(state == 'T');
}

// Polls /proc until the process is no longer stopped; when it saw that (every ~200 µs).
std::optional<std::uint64_t> wait_until_running(pid_t pid, std::uint64_t deadline_ns) {
  while (now_ns() < deadline_ns) {
    if (state_of(pid) != 'T') return now_ns();
    ::usleep(200);
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("pause guard: the node is stopped from the start to the deadline, then resumed") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  const std::uint64_t start = now_ns() + lead(), end = start + 300 * ms;
  RunningGuard g = launch(pidfd, node.pid(), start, end);
  if (now_ns() + 10 * ms < start) CHECK(state_of(node.pid()) != 'T');

  const Report stopped = g.next_report(end);
  CHECK(stopped.kind == Report::Kind::stopped);
  CHECK(stopped.at_ns >= start);                   // exact: never before the start
  CHECK(stopped.at_ns - start <= timing(5 * ms));  // TIMING
  const std::uint64_t confirm = std::stoull(stopped.detail);
  // Confirmed, within the guard's 100 ms budget: a sleeping process stops as soon as it runs
  // (on a busy host that takes a few ms: no tighter bound here, it is the scheduler's).
  CHECK(confirm >= stopped.at_ns);
  CHECK(confirm - stopped.at_ns <= 100 * ms);
  check_stopped_until(node.pid(), end);
  sleep_until(start + 150 * ms);
  check_stopped_until(node.pid(), end);

  const Report resumed = g.next_report(end + 2000 * ms);
  CHECK(resumed.kind == Report::Kind::resumed);
  CHECK(resumed.detail == "deadline");
  CHECK(resumed.at_ns >= end);                   // exact: never before the deadline
  CHECK(resumed.at_ns - end <= timing(5 * ms));  // TIMING
  CHECK(state_of(node.pid()) != 'T');
  CHECK(g.exit_code() == 0);
  CHECK(state_of(node.pid()) != 'T');
}

TEST_CASE("pause guard: \"resume\" on the control pipe ends the pause early") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);

  SUBCASE("while stopped: resumed at once, why request") {
    const std::uint64_t start = now_ns() + lead(), end = start + 10'000 * ms;
    RunningGuard g = launch(pidfd, node.pid(), start, end);
    CHECK(g.next_report(start + 2000 * ms).kind == Report::Kind::stopped);
    const std::uint64_t asked = now_ns();
    write_control(g, "resume\n");
    const Report r = g.next_report(asked + 2000 * ms);
    CHECK(r.kind == Report::Kind::resumed);
    CHECK(r.detail == "request");
    CHECK(r.at_ns >= asked);
    CHECK(r.at_ns - asked <= timing(5 * ms));  // TIMING
    CHECK(state_of(node.pid()) != 'T');
    CHECK(g.exit_code() == 0);
  }
  SUBCASE("garbage is ignored; the word counts even split across writes") {
    const std::uint64_t start = now_ns() + lead(), end = start + 10'000 * ms;
    RunningGuard g = launch(pidfd, node.pid(), start, end);
    CHECK(g.next_report(start + 2000 * ms).kind == Report::Kind::stopped);
    write_control(g, std::string(1000, 'x') + "\nresum\nRESUME\n" + std::string(3, '\0'));
    CHECK_FALSE(g.next_line(now_ns() + 30 * ms).has_value());
    CHECK(state_of(node.pid()) == 'T');
    write_control(g, "noise res");
    CHECK_FALSE(g.next_line(now_ns() + 30 * ms).has_value());
    write_control(g, "ume");
    const Report r = g.next_report(now_ns() + 2000 * ms);
    CHECK(r.kind == Report::Kind::resumed);
    CHECK(r.detail == "request");
    CHECK(state_of(node.pid()) != 'T');
    CHECK(g.exit_code() == 0);
  }
  SUBCASE("before the start: never stopped, `resumed` without `stopped`, no SIGCONT") {
    const std::uint64_t start = now_ns() + 10'000 * ms, end = start + 1000 * ms;
    RunningGuard g = launch(pidfd, node.pid(), start, end);
    write_control(g, "resume\n");
    const Report r = g.next_report(now_ns() + 2000 * ms);
    CHECK(r.kind == Report::Kind::resumed);
    CHECK(r.detail == "request");
    CHECK(r.at_ns < start);
    CHECK(g.exit_code() == 0);
    CHECK_FALSE(node.ever_stopped_or_continued());
  }
}

TEST_CASE("pause guard: the agent gone (its pipe ends closed) changes nothing: the deadline holds") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  const std::uint64_t start = now_ns() + lead(), end = start + 200 * ms;
  RunningGuard g = launch(pidfd, node.pid(), start, end);

  SUBCASE("control closed: still stopped until the deadline, resumed with why deadline") {
    g.control.reset();
    CHECK(g.next_report(end).kind == Report::Kind::stopped);
    sleep_until(start + 100 * ms);
    check_stopped_until(node.pid(), end);
    const Report r = g.next_report(end + 2000 * ms);
    CHECK(r.kind == Report::Kind::resumed);
    CHECK(r.detail == "deadline");
    CHECK(r.at_ns >= end);
    CHECK(r.at_ns - end <= timing(5 * ms));  // TIMING
    CHECK(g.exit_code() == 0);
  }
  SUBCASE("control and report closed (writes get EPIPE): resumed at the deadline all the same") {
    g.control.reset();
    g.report.reset();
    sleep_until(start + 100 * ms);
    check_stopped_until(node.pid(), end);
    const auto running = wait_until_running(node.pid(), end + 2000 * ms);
    REQUIRE(running.has_value());
    CHECK(*running >= end);  // exact: not before the deadline
    // TIMING, loose: this is the observer's latency (this test polls /proc at normal priority
    // and, on a busy host, wakes late); the guard's own precision is checked on its report above.
    CHECK(*running - end <= timing(100 * ms));
    const auto status = g.process.wait_exit(now_ns() + 2000 * ms);
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
  }
}

TEST_CASE("pause guard: SIGTERM, SIGINT or SIGHUP to the guard resumes the node at once") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  int sig = SIGTERM;
  SUBCASE("SIGTERM") { sig = SIGTERM; }
  SUBCASE("SIGINT") { sig = SIGINT; }
  SUBCASE("SIGHUP") { sig = SIGHUP; }
  const std::uint64_t start = now_ns() + lead(), end = start + 10'000 * ms;
  RunningGuard g = launch(pidfd, node.pid(), start, end);
  CHECK(g.next_report(start + 2000 * ms).kind == Report::Kind::stopped);
  const std::uint64_t sent = now_ns();
  REQUIRE(::kill(g.process.pid(), sig) == 0);
  const Report r = g.next_report(sent + 2000 * ms);
  CHECK(r.kind == Report::Kind::resumed);
  CHECK(r.detail == "signal");
  CHECK(r.at_ns - sent <= timing(5 * ms));  // TIMING
  CHECK(state_of(node.pid()) != 'T');
  CHECK(g.exit_code() == 0);
}

TEST_CASE("pause guard: the node's process gone before the start: `failed start`, exit 1, at once") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  const std::uint64_t start = now_ns() + 10'000 * ms, end = start + 1000 * ms;
  RunningGuard g = launch(pidfd, node.pid(), start, end);
  REQUIRE(::kill(node.pid(), SIGKILL) == 0);
  SUBCASE("a zombie (SIGSTOP to it would succeed)") {}
  SUBCASE("reaped") { node.kill_and_reap(); }
  const Report r = g.next_report(now_ns() + 2000 * ms);  // long before the start
  CHECK(r.kind == Report::Kind::failed);
  CHECK(r.detail == "start " + std::to_string(ESRCH));
  CHECK(g.exit_code() == 1);
}

TEST_CASE("pause guard: the node's process killed while stopped: `failed exited`, exit 1") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  const std::uint64_t start = now_ns() + lead(), end = start + 10'000 * ms;
  RunningGuard g = launch(pidfd, node.pid(), start, end);
  CHECK(g.next_report(start + 2000 * ms).kind == Report::Kind::stopped);
  REQUIRE(::kill(node.pid(), SIGKILL) == 0);
  const Report r = g.next_report(now_ns() + 2000 * ms);
  CHECK(r.kind == Report::Kind::failed);
  CHECK(r.detail == "exited " + std::to_string(ESRCH));
  CHECK(g.exit_code() == 1);
}

TEST_CASE("pause guard: a pidfd of a reaped process is never signalled, whoever holds its pid now") {
  Child gone = start_sleeper();
  const Fd pidfd = pidfd_of(gone);
  gone.kill_and_reap();
  // The kernel's side of it: the pidfd now reaches no process at all.
  CHECK(::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0U) == -1);
  CHECK(errno == ESRCH);
  // The pid the guard is given is a live process's: as if the reaped one's pid were reused.
  Child other = start_sleeper();
  RunningGuard g = launch(pidfd, other.pid(), now_ns(), now_ns() + 1000 * ms);  // start at once
  const Report r = g.next_report(now_ns() + 2000 * ms);
  CHECK(r.kind == Report::Kind::failed);
  CHECK(r.detail == "start " + std::to_string(ESRCH));
  CHECK(g.exit_code() == 1);
  CHECK_FALSE(other.ever_stopped_or_continued());
  CHECK(state_of(other.pid()) != 'T');
}

namespace {

// The agent's state while it spawns: signals blocked for its signalfd (SIGCHLD too), one
// ignored, a fd open without close-on-exec. Undone at the end of the test.
class AgentLikeSignals {
 public:
  AgentLikeSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGTERM, SIGINT, SIGCHLD, SIGUSR1}) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, &old_mask_);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGHUP, &ign, &old_hup_);
  }
  ~AgentLikeSignals() {
    ::sigaction(SIGHUP, &old_hup_, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  AgentLikeSignals(const AgentLikeSignals&) = delete;
  AgentLikeSignals& operator=(const AgentLikeSignals&) = delete;

 private:
  sigset_t old_mask_{};
  struct sigaction old_hup_ {};
};

}  // namespace

TEST_CASE("pause guard: spawned detached: its own session, its own signal mask, only its fds, cwd /") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  std::optional<RunningGuard> g;
  char marker[] = "/tmp/ticksplit-pause-guard-test-XXXXXX";
  // Open without close-on-exec, above the guard's 3-5 (a dup2 there would hide a leak): it
  // must not reach the guard all the same.
  const Fd made(::mkstemp(marker));
  REQUIRE(made.valid());
  ::unlink(marker);
  const Fd leaked(::fcntl(made.get(), F_DUPFD, 20));
  REQUIRE(leaked.valid());
  {
    const AgentLikeSignals agent_like;
    g.emplace(launch(pidfd, node.pid(), now_ns() + 10'000 * ms, now_ns() + 11'000 * ms));
  }
  const pid_t guard = g->process.pid();
  CHECK(::getsid(guard) == guard);
  CHECK(::getpgid(guard) == guard);

  // posix_spawn returns after the exec; the guard's own mask (its signalfd's three signals)
  // appears once its setup has run. Nothing of the agent's mask (SIGCHLD, SIGUSR1) is left.
  std::uint64_t blocked = 0;
  for (const std::uint64_t until = now_ns() + 2000 * ms; blocked == 0 && now_ns() < until; ::usleep(500))
    blocked = std::stoull(status_field(guard, "SigBlk"), nullptr, 16);
  CHECK(blocked == (sigbit(SIGTERM) | sigbit(SIGINT) | sigbit(SIGHUP)));
  const std::uint64_t ignored = std::stoull(status_field(guard, "SigIgn"), nullptr, 16);
  CHECK((ignored & sigbit(SIGPIPE)) != 0);  // the guard's own: a dead agent's pipe costs a line, not the guard
  CHECK((ignored & (sigbit(SIGTERM) | sigbit(SIGINT) | sigbit(SIGHUP))) == 0);  // an ignored one would never come

  // Its fds: 0 and 1 on /dev/null, 2 the test's stderr, 3-5 the plan's, then its own (signalfd,
  // timerfd, /proc/<pid>/stat); nothing of the test's.
  CHECK(link_of("/proc/" + std::to_string(guard) + "/fd/0") == "/dev/null");
  CHECK(link_of("/proc/" + std::to_string(guard) + "/fd/1") == "/dev/null");
  CHECK(link_of("/proc/" + std::to_string(guard) + "/fd/4") ==
        link_of("/proc/self/fd/" + std::to_string(g->report.get())));
  CHECK(link_of("/proc/" + std::to_string(guard) + "/fd/5") ==
        link_of("/proc/self/fd/" + std::to_string(g->control.get())));
  const std::string leaked_link = link_of("/proc/self/fd/" + std::to_string(leaked.get()));
  for (int fd = 0; fd < 64; ++fd)
    CHECK(link_of("/proc/" + std::to_string(guard) + "/fd/" + std::to_string(fd)) != leaked_link);
  CHECK(link_of("/proc/" + std::to_string(guard) + "/cwd") == "/");

  REQUIRE(::kill(guard, SIGTERM) == 0);  // before the start: `resumed signal`, nothing stopped
  const Report r = g->next_report(now_ns() + 2000 * ms);
  CHECK(r.kind == Report::Kind::resumed);
  CHECK(r.detail == "signal");
  CHECK(g->exit_code() == 0);
  CHECK_FALSE(node.ever_stopped_or_continued());
}

namespace {

struct Refusal {
  int exit_code = -1;
  std::string err;
};

// Runs the guard executable by hand: `args` after the program name, `fds` at 3, 4, 5 (-1: left
// closed); its exit code and what it wrote (stdout and stderr).
Refusal run_by_hand(const std::vector<std::string>& args, const std::vector<int>& fds) {
  int ep[2];
  REQUIRE(::pipe2(ep, O_CLOEXEC) == 0);
  Fd err_r(ep[0]), err_w(ep[1]);
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, err_w.get(), 1);
  ::posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  for (std::size_t i = 0; i < fds.size(); ++i)
    if (fds[i] >= 0) ::posix_spawn_file_actions_adddup2(&fa, fds[i], static_cast<int>(3 + i));
  std::vector<std::string> strings{TICKSPLIT_PAUSE_GUARD_PATH};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int e = ::posix_spawn(&pid, TICKSPLIT_PAUSE_GUARD_PATH, &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  REQUIRE(e == 0);
  Child child(pid);
  err_w.reset();
  Refusal out;
  char buf[512];
  for (ssize_t n; (n = ::read(err_r.get(), buf, sizeof buf)) > 0;) out.err.append(buf, static_cast<std::size_t>(n));
  const auto status = child.wait_exit(now_ns() + 2000 * ms);
  REQUIRE(status.has_value());
  REQUIRE(WIFEXITED(*status));
  out.exit_code = WEXITSTATUS(*status);
  return out;
}

}  // namespace

TEST_CASE("pause guard: bad arguments or fds are refused (exit 2, a message), nothing is signalled") {
  Child node = start_sleeper();
  const Fd pidfd = pidfd_of(node);
  Child other = start_sleeper();
  const Fd other_pidfd = pidfd_of(other);
  int rp[2], cp[2];
  REQUIRE(::pipe2(rp, O_CLOEXEC) == 0);
  const Fd report_r(rp[0]), report_w(rp[1]);
  REQUIRE(::pipe2(cp, O_CLOEXEC) == 0);
  const Fd control_r(cp[0]), control_w(cp[1]);
  const std::vector<int> good_fds{pidfd.get(), report_w.get(), control_r.get()};
  const std::string pid = std::to_string(node.pid());
  const std::string start = std::to_string(now_ns()), end = std::to_string(now_ns() + 1000 * ms);

  const std::vector<std::pair<std::vector<std::string>, std::string>> bad_args = {
      {{}, "no arguments"},
      {{pid, start}, "two arguments"},
      {{pid, start, end, "x"}, "four arguments"},
      {{"abc", start, end}, "pid not a number"},
      {{"0", start, end}, "pid 0"},
      {{"-1", start, end}, "pid negative"},
      {{"+" + pid, start, end}, "pid with a sign"},
      {{"0" + pid, start, end}, "pid with a leading zero"},
      {{"2147483648", start, end}, "pid beyond pid_t"},
      {{pid, "", end}, "start empty"},
      {{pid, start + " ", end}, "start with a space"},
      {{pid, "18446744073709551616", "18446744073709551617"}, "start beyond 64 bits"},
      {{pid, end, start}, "end before start"},
      {{pid, start, start}, "end equal to start"},
  };
  for (const auto& bad : bad_args) {
    CAPTURE(bad.second);
    const Refusal r = run_by_hand(bad.first, good_fds);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("ticksplit-pause-guard: ", 0) == 0);
  }

  const std::vector<std::pair<std::vector<int>, std::string>> bad_fds = {
      {{}, "no fds"},
      {{report_r.get(), report_w.get(), control_r.get()}, "fd 3 a pipe, not a pidfd"},
      {{other_pidfd.get(), report_w.get(), control_r.get()}, "fd 3 the pidfd of another process"},
      {{pidfd.get(), report_r.get(), control_r.get()}, "fd 4 not writable"},
      {{pidfd.get(), report_w.get(), control_w.get()}, "fd 5 not readable"},
      {{pidfd.get(), report_w.get()}, "fd 5 closed"},
  };
  for (const auto& bad : bad_fds) {
    CAPTURE(bad.second);
    const Refusal r = run_by_hand({pid, start, end}, bad.first);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("ticksplit-pause-guard: ", 0) == 0);
  }
  const Refusal help = run_by_hand({"--help"}, {});
  CHECK(help.exit_code == 0);
  CHECK(help.err.rfind("usage: ticksplit-pause-guard PID START_NS END_NS\n", 0) == 0);
  CHECK_FALSE(node.ever_stopped_or_continued());
  CHECK_FALSE(other.ever_stopped_or_continued());

  // spawn_guard refuses a plan it cannot pass on, before spawning anything.
  GuardPlan plan;
  plan.pidfd = pidfd.get();
  plan.pid = node.pid();
  plan.report_fd = report_w.get();
  plan.control_fd = control_r.get();
  plan.start_ns = plan.end_ns = now_ns();
  CHECK_FALSE(spawn_guard(TICKSPLIT_PAUSE_GUARD_PATH, plan).ok());
  plan.end_ns = plan.start_ns + 1;
  plan.pidfd = -1;
  CHECK_FALSE(spawn_guard(TICKSPLIT_PAUSE_GUARD_PATH, plan).ok());
  CHECK_FALSE(spawn_guard("/nonexistent/ticksplit-pause-guard",
                          GuardPlan{pidfd.get(), node.pid(), 1, 2, report_w.get(), control_r.get()})
                  .ok());
}

TEST_CASE("pause guard: report lines parse exactly") {
  SUBCASE("good lines") {
    auto r = parse_report_line("stopped 123 456");
    REQUIRE(r);
    CHECK(r->kind == Report::Kind::stopped);
    CHECK(r->at_ns == 123);
    CHECK(r->detail == "456");
    r = parse_report_line("stopped 123 0\n");
    REQUIRE(r);
    CHECK(r->detail == "0");
    r = parse_report_line("stopped 9223372036854775807 9223372036854775807");
    REQUIRE(r);
    CHECK(r->at_ns == 9223372036854775807u);
    // past 2^63 - 1 it is no monotonic time of this boot, and would overflow turned to unix time
    CHECK_FALSE(parse_report_line("stopped 9223372036854775808 0"));
    CHECK_FALSE(parse_report_line("resumed 18446744073709551615 deadline"));
    for (const std::string why : {"deadline", "request", "signal"}) {
      r = parse_report_line("resumed 5 " + why + "\n");
      REQUIRE(r);
      CHECK(r->kind == Report::Kind::resumed);
      CHECK(r->at_ns == 5);
      CHECK(r->detail == why);
    }
    for (const std::string stage : {"setup", "wait", "start", "stop", "exited", "resume"}) {
      r = parse_report_line("failed " + stage + " 3");
      REQUIRE(r);
      CHECK(r->kind == Report::Kind::failed);
      CHECK(r->at_ns == 0);
      CHECK(r->detail == stage + " 3");
    }
    CHECK(parse_report_line("failed stop 4095"));
  }
  SUBCASE("hostile lines") {
    const std::vector<std::string> bad = {
        "",
        "\n",
        "stopped",
        "stopped 1",
        "stopped 1 2 3",
        "stopped  1 2",
        " stopped 1 2",
        "stopped 1 2 ",
        "stopped 1 2\n\n",
        "stopped 1 2\r",
        "stopped\t1\t2",
        "stopped +1 2",
        "stopped -1 2",
        "stopped 01 2",
        "stopped 1 02",
        "stopped 0x10 0",
        "stopped 18446744073709551616 0",
        "stopped 99999999999999999999999 0",
        "stopped 0 0",
        "stopped 10 5",
        std::string("stopped 1\0 2", 12),
        std::string("stopped 1 2\0", 12),
        "STOPPED 1 2",
        "resumed 5 later",
        "resumed 5 Deadline",
        "resumed 5 deadline\nresumed 6 deadline",
        "resumed 5",
        "resumed 0 deadline",
        "resumed deadline 5",
        "failed stop 0",
        "failed stop 4096",
        "failed stop 03",
        "failed stop -3",
        "failed nope 3",
        "failed stop 3x",
        "failed 3 stop",
        "started 1 2",
        "stopped " + std::string(100, '1') + " 0",
        "resumed 1 " + std::string(1 << 20, 'd'),
        "\xff\xfe\xfd 1 2",
    };
    for (const auto& line : bad) {
      CAPTURE(line.substr(0, 60));
      CHECK_FALSE(parse_report_line(line).has_value());
    }
  }
}
