// The agent's kill_process table (agent/process_kills.*): refusals at request time, the report
// turned into process_killed, and no kill unreported (node lost, rejected, no report in time).
#include <doctest/doctest.h>

#include "agent/process_kills.hpp"

using namespace ticksplit;
using agent::ProcessKills;
using K = proto::Refusal::Kind;

namespace {
constexpr std::int64_t kNow = 1'700'000'000'000'000;
const clock::Monotonic::time_point kMono{std::chrono::seconds(1000)};
constexpr std::int64_t kMaxFaultMs = 600'000;

proto::KillProcessRequest by_name(std::optional<std::int64_t> start = std::nullopt, std::optional<std::string> id = std::nullopt) {
  proto::KillProcessRequest r;
  r.node = "app@h";
  r.target = {proto::ProcessTarget::Kind::name, "ts_worker"};
  r.start_at_us = start;
  r.id = std::move(id);
  return r;
}
std::variant<agent::watcher::KillProcessCommand, proto::Refusal> plan(ProcessKills& k, const proto::KillProcessRequest& r) {
  return k.plan(r, "ctl@c", kNow, kMono, kMaxFaultMs);
}
K refusal(const std::variant<agent::watcher::KillProcessCommand, proto::Refusal>& v) {
  REQUIRE(std::holds_alternative<proto::Refusal>(v));
  return std::get<proto::Refusal>(v).kind;
}
const agent::watcher::KillProcessCommand& command(const std::variant<agent::watcher::KillProcessCommand, proto::Refusal>& v) {
  REQUIRE(std::holds_alternative<agent::watcher::KillProcessCommand>(v));
  return std::get<agent::watcher::KillProcessCommand>(v);
}
}  // namespace

TEST_CASE("process kills: the command carries the plan; ids are given and never reused") {
  ProcessKills k("abc");
  const auto planned = plan(k, by_name(kNow + 300'000));
  const auto& c = command(planned);
  CHECK(c.id == "k1-abc");
  CHECK(c.start_at_us == kNow + 300'000);
  CHECK(c.restart_window_ms == 1000);
  CHECK(c.target.name == "ts_worker");
  CHECK(command(plan(k, by_name())).start_at_us == kNow);  // now when not given
  CHECK(command(plan(k, by_name(std::nullopt, "k3-abc"))).id == "k3-abc");
  CHECK(command(plan(k, by_name())).id == "k4-abc");  // skips the id a caller took
  CHECK(refusal(plan(k, by_name(std::nullopt, "k1-abc"))) == K::duplicate_id);
  CHECK(k.size() == 4);
}

TEST_CASE("process kills: timing refusals as a partition's") {
  ProcessKills k("x");
  CHECK(refusal(plan(k, by_name(kNow - 1'000'000))) == K::already_over);          // window over
  CHECK(command(plan(k, by_name(kNow - 999'000))).start_at_us == kNow - 999'000);  // inside it: kill now
  CHECK(refusal(plan(k, by_name(kNow + kMaxFaultMs * 1000 + 1))) == K::starts_later_than_max_fault);
  CHECK(refusal(plan(k, by_name(std::numeric_limits<std::int64_t>::max()))) == K::starts_later_than_max_fault);
}

TEST_CASE("process kills: at most max_pending waiting for their report") {
  ProcessKills k("x");
  for (std::size_t i = 0; i < ProcessKills::max_pending; ++i) command(plan(k, by_name()));
  const auto full = plan(k, by_name());
  CHECK(refusal(full) == K::too_many_kills);
  CHECK(std::get<proto::Refusal>(full).n == static_cast<std::int64_t>(ProcessKills::max_pending));
}

TEST_CASE("process kills: a report becomes process_killed once, from its own node only") {
  ProcessKills k("x");
  const auto id = command(plan(k, by_name(kNow + 1000))).id;
  agent::watcher::KillSeen seen{"", "<0.90.0>", kNow + 1100, true, "<0.95.0>", kNow + 1400, ""};
  CHECK_FALSE(k.reported("other@h", id, seen));  // not the node it was sent to
  CHECK_FALSE(k.reported("app@h", "k99-x", seen));
  const auto e = k.reported("app@h", id, seen);
  REQUIRE(e);
  CHECK(e->node == "app@h");
  CHECK(e->owner == "ctl@c");
  CHECK(e->planned_us == kNow + 1000);
  CHECK(e->restart_window_ms == 1000);
  CHECK(e->pid == "<0.90.0>");
  CHECK(e->restarted);
  CHECK(e->restarted_us == kNow + 1400);
  CHECK(e->error.empty());
  CHECK_FALSE(k.reported("app@h", id, seen));  // once
  CHECK(refusal(plan(k, by_name(std::nullopt, id))) == K::duplicate_id);
}

TEST_CASE("process kills: never silent: rejected, node lost, no report in time") {
  ProcessKills k("x");
  const auto a = command(plan(k, by_name())).id;
  const auto b = command(plan(k, by_name(kNow + 2'000'000))).id;
  const auto c = command(plan(k, by_name())).id;
  auto rejected = k.failed("app@h", a, "the watcher rejected the command: bad target");
  REQUIRE(rejected);
  CHECK(rejected->error == "the watcher rejected the command: bad target");
  CHECK_FALSE(rejected->killed_us);

  // The report is due 5 s after the window: c at 1 s + 5 s from now, b 2 s later.
  REQUIRE(k.next_deadline());
  CHECK(*k.next_deadline() == kMono + std::chrono::seconds(6));
  CHECK(k.expire(kMono + std::chrono::milliseconds(5999)).empty());
  auto overdue = k.expire(kMono + std::chrono::seconds(6));
  REQUIRE(overdue.size() == 1);
  CHECK(overdue[0].id == c);
  CHECK(overdue[0].error.find("no report") != std::string::npos);

  auto lost = k.node_lost("app@h", "connection closed");
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].id == b);
  CHECK(lost[0].error.find("connection closed") != std::string::npos);
  CHECK(k.size() == 0);
  CHECK_FALSE(k.next_deadline());
}
