// Pauses in the fault engine, with a fake guard the test plays (fake_guards.hpp) and a real
// child process as the paused node (its pidfd, its /proc state): refusals, the events from
// the guard's lines, heals that tell the guard, a guard that dies mid-pause (the agent resumes
// the node itself), the ledger's view.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/fault/engine.hpp"
#include "agent/pause/guard.hpp"
#include "agent/pause/proc_stat.hpp"
#include "common/net/cidr.hpp"
#include "common/proto/fault_codec.hpp"
#include "fake_guards.hpp"
#include "fake_kernel.hpp"

using namespace ticksplit;
using agent::fault::Engine;
using agent::fault::Output;
using agent::fault::PauseSpec;
using proto::PauseEnded;
using proto::PauseStarted;
using test::FakeGuards;
using test::FakeKernel;

namespace {

// Whether `pred` holds within 100 ms, looked at every millisecond.
template <class Pred>
bool becomes(Pred pred) {
  for (int i = 0; i < 100 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return pred();
}

// A child that sleeps, standing in for a node's emulator; killed and reaped at the end.
struct Child {
  pid_t pid = ::fork();
  Child() {
    if (pid == 0) {
      ::execl("/bin/sleep", "sleep", "60", nullptr);
      ::_exit(127);
    }
    REQUIRE(pid > 0);
  }
  ~Child() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  [[nodiscard]] char state() const {
    const auto s = agent::pause::read_proc_stat(pid);
    return s ? s->state : '?';
  }
  // SIGSTOP, as a guard does, and await the stop (a stop takes effect when the child runs).
  void stop() const {
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    REQUIRE(becomes([this] { return state() == 'T'; }));
  }
  // Whether it runs again within 100 ms.
  [[nodiscard]] bool resumes() const {
    return becomes([this] { return state() != 'T'; });
  }

  [[nodiscard]] agent::fault::NodeProcess process() const {
    auto fd = agent::pause::open_pidfd(pid);
    REQUIRE(fd);
    return {pid, std::make_shared<const Fd>(std::move(*fd)), agent::pause::read_proc_stat(pid)->start_ticks};
  }
};

PauseSpec spec(const Child& c, std::int64_t ms) {
  PauseSpec s;
  s.owner = "ctl@198.51.100.1";
  s.node = "app@198.51.100.11";
  s.process = c.process();
  s.duration_ms = ms;
  return s;
}

std::string applied(Engine& e, const PauseSpec& s, Output& out) {
  auto r = e.pause(s, out);
  REQUIRE_MESSAGE(std::holds_alternative<std::string>(r),
                  (std::holds_alternative<proto::Refusal>(r) ? ei::to_string(proto::to_term(std::get<proto::Refusal>(r)))
                                                             : ""));
  return std::get<std::string>(r);
}

std::string refused(Engine& e, const PauseSpec& s) {
  Output out;
  auto r = e.pause(s, out);
  REQUIRE(std::holds_alternative<proto::Refusal>(r));
  return ei::to_string(proto::to_term(std::get<proto::Refusal>(r)));
}

template <class T>
const T* find(const Output& out) {
  for (const auto& e : out.events)
    if (const auto* x = std::get_if<T>(&e.event)) return x;
  return nullptr;
}

agent::fault::Policy policy() {
  agent::fault::Policy p;
  p.max_fault_ms = 60'000;
  return p;
}

}  // namespace

TEST_CASE("pauses: refused with a reason, nothing launched") {
  FakeKernel k;
  FakeGuards g;
  Engine e(k, policy(), &g);
  Child node;
  auto s = spec(node, 1000);
  s.owner = s.node;
  CHECK(refused(e, s) == "{requester_node,'app@198.51.100.11'}");
  s = spec(node, 0);
  CHECK(refused(e, s) == "{bad_duration,0}");
  s = spec(node, 70'000);
  CHECK(refused(e, s) == "{duration_above_max_fault,70000,60000}");
  s = spec(node, 1000);
  s.process.pidfd.reset();
  CHECK(refused(e, s) == "{node_not_joined,'app@198.51.100.11'}");
  s = spec(node, 1000);
  s.start_at_us = k.clocks.unix_us - 2'000'000;
  CHECK(refused(e, s) == "{already_over," + std::to_string(*s.start_at_us) + "}");
  CHECK(g.launched.empty());
  g.fail = true;
  CHECK(refused(e, spec(node, 1000)) == "{cannot_pause,'app@198.51.100.11',<<\"no pause guard at /nowhere\">>}");
  Engine without(k, policy());
  CHECK(refused(without, spec(node, 1000)).rfind("{cannot_pause,'app@198.51.100.11',", 0) == 0);
}

TEST_CASE("pauses: one per node; ids are unique across partitions and pauses") {
  FakeKernel k;
  FakeGuards g;
  Engine e(k, policy(), &g);
  Child node;
  Output out;
  const auto id = applied(e, spec(node, 1000), out);
  CHECK(refused(e, spec(node, 1000)) == "{already_paused,'app@198.51.100.11'}");
  auto again = spec(node, 1000);
  again.node = "other@198.51.100.11";
  again.id = id;
  CHECK(refused(e, again) == "{duplicate_id,<<\"" + id + "\">>}");
  CHECK(g.launched.size() == 1);
  CHECK(g.launched[0].pid == node.pid);
  CHECK(g.launched[0].end_ns - g.launched[0].start_ns == 1'000'000'000);
}

TEST_CASE("pauses: the guard's lines become pause_started and pause_ended at the deadline") {
  FakeKernel k;
  FakeGuards g;
  Engine e(k, policy(), &g);
  Child node;
  Output out;
  auto s = spec(node, 2000);
  s.start_at_us = k.clocks.unix_us + 500'000;
  const auto id = applied(e, s, out);
  // A first look soon after the launch (a guard that fails at once ends it then), then the start.
  CHECK(e.next_due_ns() == k.clocks.mono_ns + agent::fault::Pauses::first_check_ns);
  k.advance_ms(50);
  e.tick(out);
  CHECK(out.events.empty());
  CHECK(e.next_due_ns() == k.clocks.mono_ns + 450'000'000);
  const auto start = g.launched[0].start_ns;
  REQUIRE(e.planned().size() == 1);
  CHECK(e.planned()[0].paused->pid == node.pid);
  CHECK(e.pause_status().at(0).state == proto::PauseStatus::State::pending);
  k.advance_ms(450);
  g.say(0, "stopped " + std::to_string(start + 1000) + " " + std::to_string(start + 3000));
  e.tick(out);
  const auto* started = find<PauseStarted>(out);
  REQUIRE(started != nullptr);
  CHECK(started->id == id);
  CHECK(started->os_pid == node.pid);
  CHECK(started->stopped_us == k.clocks.unix_us + 1);
  CHECK(started->confirmed_us == k.clocks.unix_us + 3);
  CHECK(started->planned_end_us == k.clocks.unix_us + 2'000'000);
  CHECK(e.pause_status().at(0).state == proto::PauseStatus::State::stopped);
  CHECK(e.next_due_ns() == g.launched[0].end_ns);
  k.advance_ms(2000);
  e.tick(out);  // the deadline came; the guard has not said it yet: soon again
  CHECK(find<PauseEnded>(out) == nullptr);
  CHECK(e.next_due_ns() == k.clocks.mono_ns + agent::fault::Pauses::report_poll_ns);
  g.say(0, "resumed " + std::to_string(g.launched[0].end_ns + 40'000) + " deadline");
  k.advance_ms(2);
  e.tick(out);
  const auto* ended = find<PauseEnded>(out);
  REQUIRE(ended != nullptr);
  CHECK(ended->reason == proto::HealReason::deadline);
  CHECK(ended->started);
  CHECK(ended->resumed_us == *ended->stopped_us + 2'000'039);  // the deadline, 40 µs late as the guard said
  CHECK(ended->error.empty());
  CHECK(g.reaped.size() == 1);
  CHECK(e.planned().empty());
  CHECK(e.heal(id, out) == Engine::Healed::already);
}

TEST_CASE("pauses: a heal tells the guard and reports its answer; heal_owner and heal_all reach pauses") {
  FakeKernel k;
  FakeGuards g;
  Engine e(k, policy(), &g);
  Child a, b;
  Output out;
  const auto id = applied(e, spec(a, 5000), out);
  g.say(0, "stopped " + std::to_string(g.launched[0].start_ns) + " 0");
  e.tick(out);
  REQUIRE(find<PauseStarted>(out) != nullptr);
  CHECK_FALSE(find<PauseStarted>(out)->confirmed_us.has_value());  // 0: never seen stopped
  g.say(0, "resumed " + std::to_string(g.launched[0].start_ns + 1000) + " request");  // its answer, ready
  CHECK(e.heal(id, out) == Engine::Healed::now);
  CHECK(g.heard(0) == "resume\n");
  REQUIRE(find<PauseEnded>(out) != nullptr);
  CHECK(find<PauseEnded>(out)->reason == proto::HealReason::request);

  auto mine = spec(b, 5000);
  mine.node = "b@198.51.100.11";
  mine.owner = "test@198.51.100.1";
  applied(e, mine, out);
  g.say(1, "resumed " + std::to_string(g.launched[1].start_ns) + " request");  // before its start: never stopped
  out = {};
  CHECK(e.heal_owner("test@198.51.100.1", out) == 1);
  const auto* ended = find<PauseEnded>(out);
  REQUIRE(ended != nullptr);
  CHECK(ended->reason == proto::HealReason::owner_gone);
  CHECK_FALSE(ended->started);
  CHECK_FALSE(ended->stopped_us.has_value());
  CHECK_FALSE(ended->resumed_us.has_value());  // never stopped: no SIGCONT was sent
  CHECK(e.heal_all(proto::HealReason::heal_all, out) == 0);
}

// Killed, say, with the agent's cgroup, or by the OOM killer: after saying it stopped the node,
// or between its SIGSTOP and that line. Either way the agent looks, and resumes the node.
TEST_CASE("pauses: a guard that dies with the node stopped: the agent resumes it through the pidfd") {
  for (bool said : {true, false}) {
    CAPTURE(said);
    FakeKernel k;
    FakeGuards g;
    Engine e(k, policy(), &g);
    Child node;
    Output out;
    applied(e, spec(node, 5000), out);
    node.stop();  // what the guard did
    if (said) g.say(0, "stopped " + std::to_string(g.launched[0].start_ns) + " 0");
    g.exit(0);
    e.tick(out);
    const auto* ended = find<PauseEnded>(out);
    REQUIRE(ended != nullptr);
    CHECK(ended->started == said);
    CHECK(ended->resumed_us.has_value());
    CHECK(ended->error.find("the agent resumed the node") != std::string::npos);
    CHECK(node.resumes());
    CHECK_FALSE(out.problems.empty());  // and said so in the log
  }
}

TEST_CASE("pauses: generated ids skip every id a caller took, across partitions and pauses") {
  FakeKernel k;
  FakeGuards g;
  Engine e(k, policy(), &g);
  Child a, b;
  Output out;
  agent::fault::FaultSpec part;
  part.owner = "ctl@198.51.100.1";
  part.peers = {"198.51.100.12"};
  part.addresses = {*net::parse_cidr("198.51.100.12")};
  part.duration_ms = 1000;
  const auto first = std::get<std::string>(e.apply(part, out));  // f1-<suffix>
  const auto suffix = first.substr(first.find('-'));
  auto hostile = spec(a, 1000);
  hostile.id = "f2" + suffix;  // the next id a partition would get
  applied(e, hostile, out);
  const auto second = std::get<std::string>(e.apply(part, out));
  CHECK(second != hostile.id);
  CHECK(e.heal(second, out) == Engine::Healed::now);
  CHECK(find<PauseEnded>(out) == nullptr);  // the hostile pause is untouched
  auto taken = spec(b, 1000);
  taken.node = "b@198.51.100.11";
  taken.id = first;
  CHECK(refused(e, taken) == "{duplicate_id,<<\"" + first + "\">>}");
}

TEST_CASE("pauses: a guard's failure and its garbage end the pause with the reason") {
  FakeKernel k;
  FakeGuards g;
  Engine e(k, policy(), &g);
  Child node;
  Output out;
  applied(e, spec(node, 5000), out);
  g.say(0, "hello there");
  g.say(0, "failed stop 1");
  e.tick(out);
  const auto* ended = find<PauseEnded>(out);
  REQUIRE(ended != nullptr);
  CHECK_FALSE(ended->started);
  CHECK(ended->error == "the guard failed: stop 1");
  CHECK(out.problems.size() == 1);  // the unknown line
}

TEST_CASE("pause events and status round-trip through the one codec") {
  const std::vector<proto::TimedFaultEvent> all{
      {5, PauseStarted{"p1", "app@h", 4242, "ctl@h", 10, 12, 2010}},
      {6, PauseEnded{"p1", "app@h", proto::HealReason::deadline, true, 10, 2010, 2010, ""}},
      {7, PauseEnded{"p2", "app@h", proto::HealReason::request, false, std::nullopt, std::nullopt, 99, "why"}},
  };
  for (const auto& te : all) {
    auto back = proto::fault_event_from(proto::to_event(te));
    REQUIRE(back);
    CHECK(*back == te.event);
  }
  const auto status = proto::to_term(proto::PauseStatus{"p1", "ctl@h", "app@h", 4242, proto::PauseStatus::State::stopped, 1, 2});
  CHECK(ei::to_string(status).find("kind => pause") != std::string::npos);
}
