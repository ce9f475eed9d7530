// pause::not_a_local_beam's network-namespace check on real processes: a "BEAM" (a copy of
// sleep named beam.smp) in this namespace passes, one in a namespace of its own does not, and
// the check needs no ptrace access: an unprivileged caller (nobody, no capabilities) judges a
// root process the same way. That is why it reads /proc/<pid>/net/dev, not /proc/<pid>/ns/net
// (an agent drops its capabilities after start-up; docs/kernel.md, Privileges). Root only.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "agent/pause/proc_stat.hpp"

using ticksplit::agent::pause::not_a_local_beam;
namespace fs = std::filesystem;

namespace {

// A temporary directory holding beam.smp, removed with this object.
struct FakeBeam {
  fs::path dir;
  FakeBeam() {
    char tmpl[] = "/tmp/ticksplit-netns-XXXXXX";
    dir = ::mkdtemp(tmpl);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::copy_file("/bin/sleep", dir / "beam.smp");
  }
  ~FakeBeam() { fs::remove_all(dir); }
  FakeBeam(const FakeBeam&) = delete;
  FakeBeam& operator=(const FakeBeam&) = delete;
};

// A child running beam.smp, in this network namespace or a new one; killed and reaped at scope exit.
struct Child {
  pid_t pid = -1;
  Child(const FakeBeam& beam, bool own_netns) {
    pid = ::fork();
    if (pid == 0) {
      if (own_netns && ::unshare(CLONE_NEWNET) != 0) ::_exit(127);
      const auto path = (beam.dir / "beam.smp").string();
      ::execl(path.c_str(), "beam.smp", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
};

// Until the child has exec'd (its comm is beam.smp), 5 s at most.
bool await_beam(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    auto why = not_a_local_beam(pid);
    if (!why || why->find("not a BEAM") == std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The check's verdict from a forked child that became nobody with no capabilities: 0 for "a
// local BEAM", 1 for "not in this network namespace", 2 for anything else.
int judged_by_nobody(pid_t pid) {
  const pid_t judge = ::fork();
  if (judge == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
      ::_exit(3);
    const auto why = not_a_local_beam(pid);
    ::_exit(!why ? 0 : why->find("network namespace") != std::string::npos ? 1 : 2);
  }
  int status = 0;
  ::waitpid(judge, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("a BEAM in this network namespace is local, one in another is not, judged without privileges") {
  FakeBeam beam;
  Child here(beam, false);
  Child elsewhere(beam, true);
  REQUIRE(here.pid > 0);
  REQUIRE(elsewhere.pid > 0);
  REQUIRE(await_beam(here.pid));
  REQUIRE(await_beam(elsewhere.pid));
  CHECK_FALSE(not_a_local_beam(here.pid).has_value());
  const auto why = not_a_local_beam(elsewhere.pid);
  REQUIRE(why.has_value());
  CHECK(why->find("is not in this agent's network namespace") != std::string::npos);
  // root's processes, judged by nobody: /proc/<pid>/ns/net would be a ptrace check and fail
  CHECK(judged_by_nobody(here.pid) == 0);
  CHECK(judged_by_nobody(elsewhere.pid) == 1);
}

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "kernel_proc_netns needs root (unshare, setresuid)\n");
    return 1;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
