// The kill guard with real processes: `sleep 30` children SIGKILLed by the real
// ticksplit-kill-guard (its path: TICKSPLIT_KILL_GUARD_PATH), spawned by spawn_kill_guard as the
// agent does, and a start command (/bin/sh -c) that writes its pid to a file and sleeps. No root:
// a process may signal its own children.
//
// Real time, as the pause guard's tests: windows of 100-300 ms. Bounds on how late something
// happens are TIMING (scaled by TICKSPLIT_TIMING_SCALE); bounds on order are exact.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "agent/kill/guard.hpp"
#include "agent/pause/guard.hpp"
#include "common/fd.hpp"

using namespace ticksplit;
using namespace ticksplit::agent::kill;

namespace {

constexpr std::uint64_t ms = 1'000'000;

std::uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t timing(std::uint64_t ns) {
  const char* s = std::getenv("TICKSPLIT_TIMING_SCALE");
  const long k = s != nullptr ? std::atol(s) : 1;
  return ns * static_cast<std::uint64_t>(k > 0 ? k : 1);
}

std::uint64_t lead() { return timing(100 * ms); }

// Our child: reaped however the test ends (it is the guard's to kill).
struct Sleeper {
  pid_t pid = 0;
  Sleeper() {
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  ~Sleeper() {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  // How it ended, without reaping it: the signal that killed it, 0 if it has not exited.
  [[nodiscard]] int killed_by() const {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != pid)
      return 0;
    return info.si_code == CLD_KILLED ? info.si_status : -1;
  }
};

// A temporary file the start command writes its pid to; the started process is killed at the end.
struct PidFile {
  std::string path;
  PidFile() {
    char tmpl[] = "/tmp/ticksplit-kill-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    ::unlink(tmpl);
    path = tmpl;
  }
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile() {
    if (const auto p = pid()) ::kill(static_cast<pid_t>(*p), SIGKILL);
    ::unlink(path.c_str());
  }
  [[nodiscard]] std::string command() const { return "echo $$ >" + path + "; exec sleep 30"; }
  [[nodiscard]] std::optional<long> pid() const {
    std::ifstream in(path);
    long p = 0;
    if (in >> p && p > 0) return p;
    return std::nullopt;
  }
  // Polled: the shell writes the file right after its start.
  std::optional<long> await_pid(std::uint64_t deadline_ns) const {
    while (now_ns() < deadline_ns) {
      if (const auto p = pid()) return p;
      ::usleep(1000);
    }
    return pid();
  }
};

struct Running {
  Fd report, control;
  pid_t pid = 0;
  std::string pending;

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
      if (::poll(&p, 1, static_cast<int>((deadline_ns - now) / ms) + 1) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(report.get(), buf, sizeof buf);
      if (n == 0) return std::nullopt;
      if (n > 0) pending.append(buf, static_cast<std::size_t>(n));
    }
  }
  KillReport next_report(std::uint64_t deadline_ns) {
    const auto line = next_line(deadline_ns);
    REQUIRE_MESSAGE(line.has_value(), "no report line from the guard");
    const auto r = parse_kill_report_line(*line);
    REQUIRE_MESSAGE(r.has_value(), "unparsable report line: " << *line);
    return *r;
  }
  int exit_code() {
    CHECK_FALSE(next_line(now_ns() + 2000 * ms).has_value());
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = 0;
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
  }
  Running() = default;
  Running(Running&& o) noexcept
      : report(std::move(o.report)),
        control(std::move(o.control)),
        pid(std::exchange(o.pid, 0)),
        pending(std::move(o.pending)) {}
  Running& operator=(Running&&) = delete;
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  ~Running() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

Running launch(const Sleeper& s, const Fd& pidfd, std::uint64_t kill_ns, std::uint64_t restart_ns,
               const std::string& command) {
  int rp[2], cp[2];
  REQUIRE(::pipe2(rp, O_CLOEXEC) == 0);
  Fd report_r(rp[0]), report_w(rp[1]);
  REQUIRE(::pipe2(cp, O_CLOEXEC) == 0);
  Fd control_r(cp[0]), control_w(cp[1]);
  KillPlan plan{pidfd.get(),    s.pid,          kill_ns, restart_ns, restart_ns != 0 ? command.c_str() : nullptr,
                report_w.get(), control_r.get()};
  auto spawned = spawn_kill_guard(TICKSPLIT_KILL_GUARD_PATH, plan);
  REQUIRE_MESSAGE(spawned.ok(), (spawned.ok() ? "" : spawned.error().describe()));
  Running r;
  r.report = std::move(report_r);
  r.control = std::move(control_w);
  r.pid = *spawned;
  return r;
}

Fd pidfd_of(const Sleeper& s) {
  auto fd = agent::pause::open_pidfd(s.pid);
  REQUIRE(fd.ok());
  return std::move(*fd);
}

void tell_end(const Running& g) { REQUIRE(::write(g.control.get(), "end\n", 4) == 4); }

}  // namespace

TEST_CASE("kill guard: SIGKILL at the instant, the exit seen, the command started at the restart instant") {
  Sleeper node;
  const Fd pidfd = pidfd_of(node);
  PidFile file;
  const auto kill_at = now_ns() + lead();
  const auto restart_at = kill_at + 200 * ms;
  auto g = launch(node, pidfd, kill_at, restart_at, file.command());

  const auto killed = g.next_report(kill_at + timing(1000 * ms));
  REQUIRE(killed.kind == KillReport::Kind::killed);
  CHECK(killed.at_ns >= kill_at);
  CHECK(killed.at_ns - kill_at < timing(5 * ms));  // TIMING
  const auto exited = g.next_report(kill_at + timing(1000 * ms));
  REQUIRE(exited.kind == KillReport::Kind::exited);
  CHECK(exited.at_ns >= killed.at_ns);
  CHECK(node.killed_by() == SIGKILL);
  CHECK_FALSE(file.pid().has_value());  // nothing started before the restart instant
  const auto started = g.next_report(restart_at + timing(1000 * ms));
  REQUIRE(started.kind == KillReport::Kind::started);
  CHECK(started.at_ns >= restart_at);
  CHECK(started.at_ns - restart_at < timing(5 * ms));  // TIMING
  const auto written = file.await_pid(now_ns() + timing(2000 * ms));
  REQUIRE(written.has_value());
  CHECK(*written == started.pid);  // the command ran as that process (exec: the shell's pid)
  CHECK(g.exit_code() == 0);
  // In a session of its own, as the node would be.
  CHECK(::getsid(static_cast<pid_t>(started.pid)) == static_cast<pid_t>(started.pid));
}

TEST_CASE("kill guard: without a restart its last word is the exit") {
  Sleeper node;
  const Fd pidfd = pidfd_of(node);
  const auto kill_at = now_ns() + lead();
  auto g = launch(node, pidfd, kill_at, 0, "");
  CHECK(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::killed);
  CHECK(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::exited);
  CHECK(g.exit_code() == 0);
  CHECK(node.killed_by() == SIGKILL);
}

TEST_CASE("kill guard: an end before the kill cancels it; the node lives") {
  Sleeper node;
  const Fd pidfd = pidfd_of(node);
  PidFile file;
  const auto kill_at = now_ns() + timing(300 * ms);
  auto g = launch(node, pidfd, kill_at, kill_at + 100 * ms, file.command());
  tell_end(g);
  const auto r = g.next_report(now_ns() + timing(1000 * ms));
  REQUIRE(r.kind == KillReport::Kind::cancelled);
  CHECK(r.detail == "request");
  CHECK(r.at_ns < kill_at);
  CHECK(g.exit_code() == 0);
  CHECK(node.killed_by() == 0);
  CHECK(::kill(node.pid, 0) == 0);
  CHECK_FALSE(file.pid().has_value());
}

TEST_CASE("kill guard: an end after the kill starts the node at once, not at its instant") {
  Sleeper node;
  const Fd pidfd = pidfd_of(node);
  PidFile file;
  const auto kill_at = now_ns() + lead();
  const auto restart_at = kill_at + 5000 * ms;
  auto g = launch(node, pidfd, kill_at, restart_at, file.command());
  REQUIRE(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::killed);
  REQUIRE(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::exited);
  const auto asked = now_ns();
  tell_end(g);
  const auto started = g.next_report(asked + timing(1000 * ms));
  REQUIRE(started.kind == KillReport::Kind::started);
  CHECK(started.at_ns >= asked);
  CHECK(started.at_ns < restart_at);
  CHECK(started.at_ns - asked < timing(50 * ms));  // TIMING
  CHECK(file.await_pid(now_ns() + timing(2000 * ms)) == started.pid);
  CHECK(g.exit_code() == 0);
}

TEST_CASE("kill guard: the agent gone after the kill (both pipes closed): the node is still started on time") {
  Sleeper node;
  const Fd pidfd = pidfd_of(node);
  PidFile file;
  const auto kill_at = now_ns() + lead();
  const auto restart_at = kill_at + 200 * ms;
  auto g = launch(node, pidfd, kill_at, restart_at, file.command());
  REQUIRE(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::killed);
  g.report.reset();
  g.control.reset();
  const auto written = file.await_pid(restart_at + timing(2000 * ms));
  const auto seen = now_ns();
  REQUIRE(written.has_value());
  CHECK(seen >= restart_at);
  int status = 0;
  REQUIRE(::waitpid(g.pid, &status, 0) == g.pid);
  g.pid = 0;
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("kill guard: SIGTERM before the kill cancels it; after it, the node is started at once") {
  SUBCASE("before") {
    Sleeper node;
    const Fd pidfd = pidfd_of(node);
    const auto kill_at = now_ns() + timing(500 * ms);
    auto g = launch(node, pidfd, kill_at, 0, "");
    ::usleep(static_cast<useconds_t>(timing(50 * ms) / 1000));  // the guard's signalfd is set up by then
    REQUIRE(::kill(g.pid, SIGTERM) == 0);
    const auto r = g.next_report(now_ns() + timing(1000 * ms));
    REQUIRE(r.kind == KillReport::Kind::cancelled);
    CHECK(r.detail == "signal");
    CHECK(node.killed_by() == 0);
  }
  SUBCASE("after") {
    Sleeper node;
    const Fd pidfd = pidfd_of(node);
    PidFile file;
    const auto kill_at = now_ns() + lead();
    auto g = launch(node, pidfd, kill_at, kill_at + 5000 * ms, file.command());
    REQUIRE(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::killed);
    REQUIRE(g.next_report(kill_at + timing(1000 * ms)).kind == KillReport::Kind::exited);
    REQUIRE(::kill(g.pid, SIGTERM) == 0);
    REQUIRE(g.next_report(now_ns() + timing(1000 * ms)).kind == KillReport::Kind::started);
    CHECK(file.await_pid(now_ns() + timing(2000 * ms)).has_value());
  }
}

TEST_CASE("kill guard: a node gone before the kill is reported, nothing is started") {
  PidFile file;
  std::optional<Running> g;
  {
    Sleeper node;
    const Fd pidfd = pidfd_of(node);
    g.emplace(launch(node, pidfd, now_ns() + timing(300 * ms), now_ns() + timing(400 * ms), file.command()));
  }  // killed and reaped here
  const auto r = g->next_report(now_ns() + timing(1000 * ms));
  REQUIRE(r.kind == KillReport::Kind::failed);
  CHECK(r.detail == "start 3");  // ESRCH
  CHECK(g->exit_code() == 1);
  CHECK_FALSE(file.pid().has_value());
}

TEST_CASE("kill guard: bad arguments are refused before anything is done") {
  for (const char* args : {"", "1 2", "0 1 0", "12 1 0 cmd", "12 5 3 cmd", "12 1 5", "12 01 0"}) {
    const std::string cmd = std::string(TICKSPLIT_KILL_GUARD_PATH) + " " + args + " 2>/dev/null";
    const int status = std::system(cmd.c_str());
    CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 2), args);
  }
}
