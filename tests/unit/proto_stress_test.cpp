// The stress's request, events, refusals and status on the wire (common/proto/request.*,
// fault_codec.*).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
#include "common/proto/event.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/proto/request.hpp"

using namespace ticksplit;
using namespace ticksplit::ei;

namespace {
Term wire(const Term& t) {
  auto x = encode(t);
  REQUIRE(x.ok());
  auto back = decode(x->bytes());
  REQUIRE(back.ok());
  return *back;
}
Term spec(std::vector<std::pair<Term, Term>> entries) { return tuple({atom("stress"), ei::map(std::move(entries))}); }
std::string rejected(const Term& t) {
  const auto parsed = proto::parse_request(t);
  const auto* no = std::get_if<proto::Rejected>(&parsed);
  REQUIRE(no != nullptr);
  const auto* pair = no->reason.tuple_of(2);
  REQUIRE(pair != nullptr);
  return (*pair)[0].as<Atom>()->name;
}
}  // namespace

TEST_CASE("stress request: parsed exactly, hogs defaulted and bounded, round-trips") {
  const auto parsed = proto::parse_request(spec({{atom("node"), atom("app@h1")}, {atom("duration_ms"), 2000}}));
  const auto* r = std::get_if<proto::Request>(&parsed);
  REQUIRE(r != nullptr);
  const auto& s = std::get<proto::StressRequest>(*r);
  CHECK(s.node == "app@h1");
  CHECK(s.duration_ms == 2000);
  CHECK(s.hogs == 2);
  CHECK_FALSE(s.start_at_us.has_value());

  proto::StressRequest full{"app@h1", 1500, 1796000000000000, "s-1", 16};
  const auto back = proto::parse_request(wire(proto::to_term(proto::Request{full})));
  REQUIRE(std::holds_alternative<proto::Request>(back));
  CHECK(std::get<proto::StressRequest>(std::get<proto::Request>(back)) == full);

  CHECK(rejected(spec({{atom("node"), atom("app@h1")}, {atom("duration_ms"), 10}, {atom("hogs"), 0}})) == "bad_hogs");
  CHECK(rejected(spec({{atom("node"), atom("app@h1")}, {atom("duration_ms"), 10}, {atom("hogs"), 17}})) == "bad_hogs");
  CHECK(rejected(spec({{atom("node"), atom("app@h1")}, {atom("duration_ms"), 10}, {atom("hogs"), 2.0}})) == "bad_hogs");
  CHECK(rejected(spec({{atom("node"), atom("nohost")}, {atom("duration_ms"), 10}})) == "bad_node");
  CHECK(rejected(spec({{atom("node"), atom("app@h1")}})) == "bad_duration");
  CHECK(rejected(spec({{atom("node"), atom("app@h1")}, {atom("duration_ms"), 10}, {atom("loss"), 0.5}})) ==
        "unknown_key");
}

TEST_CASE("stress events round-trip; a hostile one is refused with the field's name") {
  proto::StressStarted s{"s-1", "app@h1", "ctl@h0", 1000, 3000, 2, 4};
  proto::StressEnded e;
  e.id = "s-1";
  e.node = "app@h1";
  e.reason = proto::HealReason::request;
  e.started = true;
  e.started_us = 1000;
  e.ended_us = 2500;
  e.planned_end_us = 3000;
  e.hogs = 2;
  e.processes = 4;
  e.utilisation_before = 0.01;
  e.utilisation_during = 0.995;
  e.normal_late_max_ms = 1490.5;
  e.rtt_before = {0.4, 0.9, 3, 0};
  e.rtt_during = {16.0, 24.0, 19, 1};
  e.error = "";
  for (const proto::FaultEvent& ev : {proto::FaultEvent{s}, proto::FaultEvent{e}}) {
    const auto out = proto::to_event(proto::TimedFaultEvent{5, ev});
    auto back = proto::fault_event_from(out);
    REQUIRE(back.ok());
    CHECK(*back == ev);
  }
  const auto with = [&](const char* field, Term v) {
    auto ev = proto::to_event(proto::TimedFaultEvent{5, e});
    for (auto& f : ev.fields)
      if (f.first == field) f.second = std::move(v);
    return proto::fault_event_from(ev);
  };
  CHECK_FALSE(with("utilisation_during", 1.5).ok());
  CHECK_FALSE(with("utilisation_during", std::numeric_limits<double>::quiet_NaN()).ok());
  CHECK_FALSE(with("utilisation_after", -0.1).ok());
  CHECK_FALSE(with("rtt_during_ms", tuple({1.0, 2.0, 3})).ok());
  CHECK_FALSE(with("rtt_during_ms", tuple({1.0, atom("undefined"), 3, 0})).ok());
  CHECK_FALSE(with("rtt_during_ms", tuple({1.0, 2.0, -3, 0})).ok());
  CHECK_FALSE(with("normal_late_max_ms", 1e300).ok());
  CHECK_FALSE(with("ended_us", atom("soon")).ok());
  CHECK(with("utilisation_during", 1).ok());  // an integer is a number too
}

TEST_CASE("stress refusals and status on the wire") {
  using K = proto::Refusal::Kind;
  CHECK(to_string(proto::to_term(proto::Refusal{K::already_stressed, "app@h1", {}, 0, 0})) ==
        "{already_stressed,app@h1}");
  CHECK(to_string(proto::to_term(proto::Refusal{K::cannot_stress, "app@h1", "why", 0, 0})) ==
        "{cannot_stress,app@h1,<<\"why\">>}");
  const auto st =
      proto::to_term(proto::StressStatus{"s-1", "ctl@h0", "app@h1", 2, proto::StressStatus::State::active, 10, 20});
  CHECK(to_string(st).find("kind => stress") != std::string::npos);
}
