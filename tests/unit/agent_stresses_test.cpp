// agent/stresses.*: refusals, ids, the node's reports read as hostile input, no stress left
// unreported (node lost, report overdue), early stops.
#include <doctest/doctest.h>

#include "agent/stresses.hpp"

using namespace ticksplit;
using namespace ticksplit::agent;
using ei::atom;
using ei::Term;
using K = proto::Refusal::Kind;
using Props = std::vector<std::pair<std::string, Term>>;

namespace {
constexpr std::int64_t kNow = 1'000'000'000'000;
const clock::Monotonic::time_point kMono{std::chrono::seconds(100)};

proto::StressRequest req(std::string node = "app@h1", std::int64_t ms = 2000) {
  proto::StressRequest r;
  r.node = std::move(node);
  r.duration_ms = ms;
  r.start_at_us = kNow + 100'000;
  return r;
}
StressCommand planned(Stresses& s, const proto::StressRequest& r) {
  auto p = s.plan(r, "ctl@h0", kNow, kMono, 60'000);
  REQUIRE(std::holds_alternative<StressCommand>(p));
  return std::get<StressCommand>(p);
}
K refused(Stresses& s, const proto::StressRequest& r) {
  auto p = s.plan(r, "ctl@h0", kNow, kMono, 60'000);
  REQUIRE(std::holds_alternative<proto::Refusal>(p));
  return std::get<proto::Refusal>(p).kind;
}
Props good_end() {
  return {{"reason", atom("deadline")},
          {"started", atom("true")},
          {"started_us", kNow + 100'500},
          {"ended_us", kNow + 2'101'000},
          {"processes", std::int64_t{4}},
          {"utilisation_before", 0.01},
          {"utilisation_during", 0.99},
          {"utilisation_after", 0.02},
          {"normal_late_max_ms", 1990.0},
          {"rtt_before_ms", ei::tuple({0.5, 0.9, std::int64_t{3}, std::int64_t{0}})},
          {"rtt_during_ms", ei::tuple({16.0, 24.0, std::int64_t{19}, std::int64_t{0}})},
          {"node", atom("forged@elsewhere")},  // the agent's own word wins
          {"future_field", atom("ignored")}};
}
}  // namespace

TEST_CASE("stresses: the command, then refusals: one per node, ids, timing, max_fault") {
  Stresses s("t");
  const auto c = planned(s, req());
  CHECK(c.id == "s1-t");
  CHECK(c.start_at_us == kNow + 100'000);
  CHECK(c.end_at_us == kNow + 2'100'000);
  CHECK(c.hogs == 2);
  CHECK(ei::to_string(watcher::to_command(c)) == "{stress,<<\"s1-t\">>," + std::to_string(kNow + 100'000) + "," +
                                                     std::to_string(kNow + 2'100'000) + ",#{hogs => 2}}");
  CHECK(refused(s, req()) == K::already_stressed);
  auto dup = req("app@h2");
  dup.id = "s1-t";
  CHECK(refused(s, dup) == K::duplicate_id);
  CHECK(refused(s, req("app@h2", 70'000)) == K::duration_above_max_fault);
  auto late = req("app@h2");
  late.start_at_us = kNow + 61'000'000;
  CHECK(refused(s, late) == K::starts_later_than_max_fault);
  auto over = req("app@h2");
  over.start_at_us = kNow - 3'000'000;
  CHECK(refused(s, over) == K::already_over);
  CHECK(s.size() == 1);
  s.cancel(c.id);
  CHECK(s.size() == 0);
  planned(s, req());  // the node is free again
}

TEST_CASE("stresses: the node's reports become typed events; what is not ours is dropped") {
  Stresses s("t");
  const auto c = planned(s, req());
  CHECK_FALSE(s.reported("app@h2", "stress_started", c.id, {}).has_value());  // another node's word
  CHECK_FALSE(s.reported("app@h1", "stress_started", "other", {}).has_value());
  CHECK_FALSE(s.reported("app@h1", "process_killed", c.id, {}).has_value());
  auto started =
      s.reported("app@h1", "stress_started", c.id, {{"started_us", kNow + 100'500}, {"processes", std::int64_t{4}}});
  REQUIRE(started.has_value());
  const auto& st = std::get<proto::StressStarted>(*started);
  CHECK(st.owner == "ctl@h0");
  CHECK(st.processes == 4);
  CHECK(st.planned_end_us == c.end_at_us);
  CHECK_FALSE(s.reported("app@h1", "stress_started", c.id, {{"started_us", kNow}, {"processes", std::int64_t{4}}})
                  .has_value());  // once
  auto ended = s.reported("app@h1", "stress_ended", c.id, good_end());
  REQUIRE(ended.has_value());
  const auto& e = std::get<proto::StressEnded>(*ended);
  CHECK(e.node == "app@h1");
  CHECK(e.started);
  CHECK(*e.utilisation_during == doctest::Approx(0.99));
  CHECK(e.rtt_during.count == 19);
  CHECK(e.error.empty());
  CHECK(s.size() == 0);
  CHECK(s.ended(c.id));
  CHECK_FALSE(s.reported("app@h1", "stress_ended", c.id, good_end()).has_value());  // late: dropped
}

TEST_CASE("stresses: a hostile stress_ended still ends the stress, with an error and no figures") {
  for (const auto& [key, bad] : std::vector<std::pair<std::string, Term>>{{"utilisation_during", Term(7.0)},
                                                                          {"rtt_during_ms", ei::tuple({atom("x")})},
                                                                          {"started", Term(std::int64_t{1})},
                                                                          {"error", ei::list({})},
                                                                          {"ended_us", ei::binary("soon")}}) {
    Stresses s("t");
    const auto c = planned(s, req());
    auto props = good_end();
    for (auto& p : props)
      if (p.first == key) p.second = bad;
    if (key == "error") props.emplace_back(key, bad);
    auto ended = s.reported("app@h1", "stress_ended", c.id, props);
    REQUIRE(ended.has_value());
    const auto& e = std::get<proto::StressEnded>(*ended);
    CHECK(e.error.find("malformed report from the node") == 0);
    CHECK_FALSE(e.utilisation_during.has_value());
    CHECK(s.size() == 0);
  }
  Stresses s("t");
  const auto c = planned(s, req());
  auto props = good_end();
  props.emplace_back("error", ei::binary(std::string(5000, '\n')));
  auto ended = s.reported("app@h1", "stress_ended", c.id, props);
  REQUIRE(ended.has_value());
  const auto& e = std::get<proto::StressEnded>(*ended);
  CHECK(e.error == std::string(1024, '?'));  // printable, cut
}

TEST_CASE("stresses: stopped early, lost with its node, or overdue: always a stress_ended") {
  Stresses s("t");
  const auto c1 = planned(s, req("app@h1"));
  const auto c2 = planned(s, req("app@h2"));
  auto c3r = req("app@h3");
  c3r.start_at_us.reset();
  const auto c3 = planned(s, c3r);
  auto stop = s.stop(c1.id, proto::HealReason::request);
  REQUIRE(stop.has_value());
  CHECK(stop->first == "app@h1");
  CHECK(ei::to_string(stop->second) == "{stress_stop,<<\"s1-t\">>}");
  auto props = good_end();
  props[0].second = atom("request");  // the node stopped it early: on whose word is the agent's to say
  auto ended = s.reported("app@h1", "stress_ended", c1.id, props);
  REQUIRE(ended.has_value());
  CHECK(std::get<proto::StressEnded>(*ended).reason == proto::HealReason::request);
  // A heal_all that came too late (after the window): the node ran it to its deadline, and says so.
  const auto late = planned(s, req("app@h5"));
  REQUIRE(s.stop(late.id, proto::HealReason::heal_all).has_value());
  auto full = s.reported("app@h5", "stress_ended", late.id, good_end());
  REQUIRE(full.has_value());
  CHECK(std::get<proto::StressEnded>(*full).reason == proto::HealReason::deadline);
  // stopped early by a heal_all: the agent's word
  const auto early = planned(s, req("app@h6"));
  REQUIRE(s.stop(early.id, proto::HealReason::heal_all).has_value());
  auto cut = good_end();
  cut[0].second = atom("request");
  auto stopped = s.reported("app@h6", "stress_ended", early.id, cut);
  REQUIRE(stopped.has_value());
  CHECK(std::get<proto::StressEnded>(*stopped).reason == proto::HealReason::heal_all);

  auto c4r = req("app@h4");
  const auto c4 = planned(s, c4r);
  CHECK_FALSE(s.failed("app@h1", c4.id, "x").has_value());  // not that node's
  const auto rejected = s.failed("app@h4", c4.id, "bad hogs\n");
  REQUIRE(rejected.has_value());
  CHECK(rejected->error == "the node's watcher rejected the stress: bad hogs?");
  CHECK_FALSE(rejected->started);

  const auto lost = s.node_lost("app@h2", "connection closed");
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].id == c2.id);
  CHECK(lost[0].error.find("connection was lost") != std::string::npos);
  CHECK(s.ids_of(std::string("ctl@h0")) == std::vector<std::string>{c3.id});
  // c3 starts now and lasts 2 s: its report is due 2 s + 500 ms + 5 s after the plan
  CHECK(s.expire(kMono + std::chrono::milliseconds(7400)).empty());
  REQUIRE(s.next_deadline().has_value());
  CHECK(*s.next_deadline() == kMono + std::chrono::milliseconds(7500));
  const auto overdue = s.expire(kMono + std::chrono::milliseconds(7500));
  REQUIRE(overdue.size() == 1);
  CHECK(overdue[0].error.find("no report from the node") == 0);
  CHECK(s.size() == 0);
}
