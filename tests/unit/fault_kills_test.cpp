// kill_node in the fault engine, with a fake kill guard the test plays (its two pipes) and a
// real child as the node (its pidfd; the test SIGKILLs it when the guard would): refusals, the
// guard's lines turned into node_killed and kill_ended, heals told to the guard, a guard that
// dies after the kill (the agent starts the node's command itself).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "agent/fault/engine.hpp"
#include "agent/pause/guard.hpp"
#include "agent/pause/proc_stat.hpp"
#include "common/proto/fault_codec.hpp"
#include "fake_kernel.hpp"

using namespace ticksplit;
using agent::fault::Engine;
using agent::fault::KillSpec;
using agent::fault::Output;
using proto::KillEnded;
using proto::NodeKilled;
using test::FakeKernel;

namespace {

class FakeKillGuards final : public agent::fault::KillGuards {
 public:
  struct Launched {
    std::uint64_t kill_ns, restart_ns;
    std::string command;
    Fd report, control;  // the guard's ends
  };
  std::vector<Launched> launched;
  std::vector<pid_t> reaped;
  bool fail = false;

  Result<Handle> launch(int, pid_t, std::uint64_t kill_ns, std::uint64_t restart_ns,
                        const std::string& command) override {
    if (fail) return Error{Domain::system, ENOENT, "no kill guard at /nowhere"};
    int report[2], control[2];
    if (::pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(control, O_CLOEXEC | O_NONBLOCK) != 0)
      return system_error("pipe2", errno);
    launched.push_back({kill_ns, restart_ns, command, Fd(report[1]), Fd(control[0])});
    return Handle{Fd(report[0]), Fd(control[1]), 200000 + static_cast<pid_t>(launched.size())};
  }
  void reap(pid_t pid) override { reaped.push_back(pid); }
  void say(std::size_t i, const std::string& line) {
    const std::string l = line + "\n";
    REQUIRE(::write(launched.at(i).report.get(), l.data(), l.size()) == static_cast<ssize_t>(l.size()));
  }
  std::string heard(std::size_t i) {
    char buf[64];
    const auto n = ::read(launched.at(i).control.get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
};

struct Child {
  pid_t pid = ::fork();
  Child() {
    if (pid == 0) {
      ::execl("/bin/sleep", "sleep", "60", nullptr);
      ::_exit(127);
    }
    REQUIRE(pid > 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  [[nodiscard]] agent::fault::NodeProcess process() const {
    auto fd = agent::pause::open_pidfd(pid);
    REQUIRE(fd);
    return {pid, std::make_shared<const Fd>(std::move(*fd)), agent::pause::read_proc_stat(pid)->start_ticks};
  }
};

const std::string kNode = "app@198.51.100.11";

KillSpec spec(const Child& c, std::optional<std::int64_t> restart_after_ms) {
  KillSpec s;
  s.owner = "ctl@198.51.100.1";
  s.node = kNode;
  s.process = c.process();
  s.restart_after_ms = restart_after_ms;
  return s;
}

agent::fault::Policy policy() {
  agent::fault::Policy p;
  p.max_fault_ms = 60'000;
  return p;
}

std::string refused(Engine& e, const KillSpec& s) {
  Output out;
  auto r = e.kill_node(s, out);
  REQUIRE(std::holds_alternative<proto::Refusal>(r));
  return ei::to_string(proto::to_term(std::get<proto::Refusal>(r)));
}

std::string applied(Engine& e, const KillSpec& s, Output& out) {
  auto r = e.kill_node(s, out);
  REQUIRE_MESSAGE(
      std::holds_alternative<std::string>(r),
      (std::holds_alternative<proto::Refusal>(r) ? ei::to_string(proto::to_term(std::get<proto::Refusal>(r))) : ""));
  return std::get<std::string>(r);
}

template <class T>
const T* find(const Output& out) {
  for (const auto& e : out.events)
    if (const auto* x = std::get_if<T>(&e.event)) return x;
  return nullptr;
}

}  // namespace

TEST_CASE("kills: refused with a reason, nothing launched") {
  FakeKernel k;
  FakeKillGuards g;
  Engine e(k, policy());
  e.enable_kills(g, {{kNode, "exec erl -name " + kNode}});
  Child node;
  auto s = spec(node, 1000);
  s.owner = s.node;
  CHECK(refused(e, s) == "{requester_node,'app@198.51.100.11'}");
  CHECK(refused(e, spec(node, 70'000)) == "{duration_above_max_fault,70000,60000}");
  s = spec(node, 1000);
  s.process.pidfd.reset();
  CHECK(refused(e, s) == "{node_not_joined,'app@198.51.100.11'}");
  s = spec(node, 1000);
  s.start_at_us = k.clocks.unix_us - 2'000'000;
  CHECK(refused(e, s) == "{already_over," + std::to_string(*s.start_at_us) + "}");
  s = spec(node, std::nullopt);
  s.start_at_us = k.clocks.unix_us + 61'000'000;
  CHECK(refused(e, s) == "{starts_later_than_max_fault," + std::to_string(*s.start_at_us) + "}");
  CHECK(g.launched.empty());
  g.fail = true;
  CHECK(refused(e, spec(node, 1000)) == "{cannot_kill,'app@198.51.100.11',<<\"no kill guard at /nowhere\">>}");

  FakeKillGuards g2;
  Engine no_commands(k, policy());
  no_commands.enable_kills(g2, {});
  CHECK(refused(no_commands, spec(node, 1000)) == "{no_start_command,'app@198.51.100.11'}");
  Output out;
  applied(no_commands, spec(node, std::nullopt), out);  // no restart: no command needed
  CHECK(refused(no_commands, spec(node, std::nullopt)) == "{already_killed,'app@198.51.100.11'}");
  Engine without(k, policy());
  CHECK(refused(without, spec(node, 1000)).rfind("{cannot_kill,'app@198.51.100.11',", 0) == 0);
}

TEST_CASE("kills: the guard's lines become node_killed and kill_ended; the restart's command and instants") {
  FakeKernel k;
  FakeKillGuards g;
  Engine e(k, policy());
  e.enable_kills(g, {{kNode, "exec erl"}});
  Child node;
  Output out;
  auto s = spec(node, 3000);
  s.start_at_us = k.clocks.unix_us + 500'000;
  const auto id = applied(e, s, out);
  REQUIRE(g.launched.size() == 1);
  const auto kill_ns = k.clocks.mono_ns + 500'000'000;
  CHECK(g.launched[0].kill_ns == kill_ns);
  CHECK(g.launched[0].restart_ns == kill_ns + 3'000'000'000);
  CHECK(g.launched[0].command == "exec erl");
  CHECK(e.kill_status().at(0).state == proto::KillStatus::State::pending);
  CHECK(e.next_due_ns() == k.clocks.mono_ns + agent::fault::Kills::first_check_ns);
  k.advance_ms(500);
  g.say(0, "killed " + std::to_string(kill_ns + 200'000));
  g.say(0, "exited " + std::to_string(kill_ns + 5'000'000));
  e.tick(out);
  const auto* killed = find<NodeKilled>(out);
  REQUIRE(killed != nullptr);
  CHECK(killed->id == id);
  CHECK(killed->os_pid == node.pid);
  CHECK(killed->killed_us == k.clocks.unix_us + 200);
  CHECK(killed->exited_us == k.clocks.unix_us + 5000);
  CHECK(killed->planned_restart_us == k.clocks.unix_us + 3'000'000);
  CHECK(e.kill_status().at(0).state == proto::KillStatus::State::down);
  CHECK(e.next_due_ns() == g.launched[0].restart_ns);
  k.advance_ms(3000);
  g.say(0, "started " + std::to_string(g.launched[0].restart_ns + 300'000) + " 4321");
  e.tick(out);
  const auto* ended = find<KillEnded>(out);
  REQUIRE(ended != nullptr);
  CHECK(ended->reason == proto::HealReason::deadline);
  CHECK(ended->killed);
  CHECK(ended->started_us == *ended->planned_restart_us + 300);
  CHECK(ended->start_pid == 4321);
  CHECK(ended->error.empty());
  CHECK(g.reaped.size() == 1);
  CHECK(e.kill_status().empty());
  CHECK(e.heal(id, out) == Engine::Healed::already);
}

TEST_CASE("kills: a heal before the kill cancels it; one after it asks for the restart at once") {
  FakeKernel k;
  FakeKillGuards g;
  Engine e(k, policy());
  e.enable_kills(g, {{kNode, "exec erl"}});
  Child node;
  Output out;
  auto s = spec(node, 3000);
  s.start_at_us = k.clocks.unix_us + 500'000;
  const auto first = applied(e, s, out);
  g.say(0, "cancelled " + std::to_string(k.clocks.mono_ns + 10) + " request");  // as the guard answers
  CHECK(e.heal(first, out) == Engine::Healed::now);
  CHECK(g.heard(0) == "end\n");
  const auto* cancelled = find<KillEnded>(out);
  REQUIRE(cancelled != nullptr);
  CHECK(cancelled->reason == proto::HealReason::request);
  CHECK_FALSE(cancelled->killed);
  CHECK_FALSE(cancelled->started_us.has_value());

  Output out2;
  const auto second = applied(e, spec(node, 3000), out2);
  g.say(1, "killed " + std::to_string(k.clocks.mono_ns + 100));
  g.say(1, "exited " + std::to_string(k.clocks.mono_ns + 200));
  k.advance_ms(100);
  e.tick(out2);
  g.say(1, "started " + std::to_string(k.clocks.mono_ns + 300) + " 77");
  CHECK(e.heal_all(proto::HealReason::heal_all, out2) == 1);
  CHECK(g.heard(1) == "end\n");
  const auto* ended = find<KillEnded>(out2);
  REQUIRE(ended != nullptr);
  CHECK(ended->id == second);
  CHECK(ended->reason == proto::HealReason::heal_all);
  CHECK(ended->start_pid == 77);
}

TEST_CASE("kills: a guard gone after the kill: the agent starts the node's command itself, and says so") {
  FakeKernel k;
  FakeKillGuards g;
  char tmpl[] = "/tmp/ticksplit-kills-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  ::close(fd);
  ::unlink(tmpl);
  const std::string file = tmpl;
  Engine e(k, policy());
  e.enable_kills(g, {{kNode, "echo $$ >" + file}});
  Child node;
  Output out;
  applied(e, spec(node, 3000), out);
  ::kill(node.pid, SIGKILL);  // what the guard did before it died
  siginfo_t info{};
  REQUIRE(::waitid(P_PID, static_cast<id_t>(node.pid), &info, WEXITED | WNOWAIT) == 0);  // exited, not reaped
  g.say(0, "killed " + std::to_string(k.clocks.mono_ns + 100));
  g.launched[0].report.reset();  // the guard is gone
  k.advance_ms(60);
  e.tick(out);
  const auto* ended = find<KillEnded>(out);
  REQUIRE(ended != nullptr);
  CHECK(ended->killed);
  REQUIRE(ended->start_pid.has_value());
  CHECK(ended->error.find("the agent started the node") != std::string::npos);
  CHECK(find<NodeKilled>(out) != nullptr);
  long written = 0;
  for (int i = 0; i < 1000 && written == 0; ++i) {
    std::ifstream in(file);
    in >> written;
    if (written == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(written == *ended->start_pid);
  std::remove(file.c_str());
}
