// A fake of the pauses' guard seam (agent/fault/pauses.hpp): launch() makes the two pipes a
// real guard would talk through and keeps the guard's ends, so a test plays the guard: it
// writes its report lines and reads what the agent told it.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/fault/pauses.hpp"

namespace ticksplit::test {

class FakeGuards final : public agent::fault::Guards {
 public:
  struct Launched {
    int pidfd;
    pid_t pid;
    std::uint64_t start_ns, end_ns;
    Fd report;   // the guard's end: write lines here
    Fd control;  // the guard's end: what the agent wrote
  };
  std::vector<Launched> launched;
  std::vector<pid_t> reaped;
  bool fail = false;

  Result<Handle> launch(int pidfd, pid_t pid, std::uint64_t start_ns, std::uint64_t end_ns) override {
    if (fail) return Error{Domain::system, ENOENT, "no pause guard at /nowhere"};
    int report[2], control[2];
    if (::pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(control, O_CLOEXEC | O_NONBLOCK) != 0)
      return system_error("pipe2", errno);
    const pid_t guard = 100000 + static_cast<pid_t>(launched.size());
    launched.push_back({pidfd, pid, start_ns, end_ns, Fd(report[1]), Fd(control[0])});
    return Handle{Fd(report[0]), Fd(control[1]), guard};
  }
  void reap(pid_t pid) override { reaped.push_back(pid); }

  // As the guard would say it.
  void say(std::size_t which, const std::string& line) {
    const std::string l = line + "\n";
    REQUIRE(::write(launched.at(which).report.get(), l.data(), l.size()) == static_cast<ssize_t>(l.size()));
  }
  // What the agent told guard `which`, read so far.
  std::string heard(std::size_t which) {
    char buf[256];
    const auto n = ::read(launched.at(which).control.get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  // The guard exits: its end of the report pipe closes.
  void exit(std::size_t which) { launched.at(which).report.reset(); }
};

}  // namespace ticksplit::test
