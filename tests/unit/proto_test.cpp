#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
#include "common/proto/event.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"
#include "golden.hpp"

using namespace ticksplit;
using namespace ticksplit::ei;

namespace {
// Through the wire and back, as the controller and agent will see it.
Term wire(const Term& t) {
  auto x = encode(t);
  REQUIRE(x.ok());
  auto back = decode(x->bytes());
  REQUIRE(back.ok());
  return *back;
}
const Pid kPid{"drv@198.51.100.1", 7, 0, 3};
}  // namespace

TEST_CASE("every request round-trips through the wire") {
  proto::PartitionRequest full;
  full.peers = {{"app@198.51.100.12", true}, {"2001:db8::12", false}, {"198.51.100.0/28", false}};
  full.duration_ms = 3000;
  full.direction = proto::Direction::both;
  full.start_at_us = 1'700'000'000'000'000;
  full.id = "f-1";
  full.loss = proto::Loss{300'000};
  proto::PartitionRequest minimal;
  minimal.peers = {{"198.51.100.13", false}};
  minimal.duration_ms = 1;
  const proto::Request requests[] = {proto::StatusRequest{},
                                     proto::SubscribeRequest{kPid},
                                     proto::UnsubscribeRequest{kPid},
                                     proto::EventsRequest{42},
                                     full,
                                     minimal,
                                     proto::HealRequest{"f-1"},
                                     proto::HealAllRequest{}};
  for (const auto& r : requests) {
    auto parsed = proto::parse_request(wire(proto::to_term(r)));
    REQUIRE(std::holds_alternative<proto::Request>(parsed));
    CHECK(std::get<proto::Request>(parsed) == r);
  }
}

TEST_CASE("bad requests are rejected with the reason the agent sends back") {
  const auto reason = [](const Term& t) {
    auto parsed = proto::parse_request(t);
    REQUIRE(std::holds_alternative<proto::Rejected>(parsed));
    return std::get<proto::Rejected>(parsed).reason;
  };
  CHECK(reason(atom("bogus")) == tuple({atom("unknown_request"), atom("bogus")}));
  CHECK(reason(tuple({atom("partition"), list({})})) == tuple({atom("spec_not_a_map"), list({})}));
  CHECK(reason(tuple({atom("partition"), map({})})) == tuple({atom("bad_peers"), atom("missing")}));
  const auto spec = [](std::vector<std::pair<Term, Term>> extra) {
    std::vector<std::pair<Term, Term>> m{{atom("peers"), list({binary("198.51.100.12")})}, {atom("duration_ms"), 1000}};
    for (auto& [k, v] : extra) {
      auto it = std::find_if(m.begin(), m.end(), [&](auto& e) { return e.first == k; });
      if (it != m.end())
        it->second = v;
      else
        m.emplace_back(k, v);
    }
    return tuple({atom("partition"), map(m)});
  };
  CHECK(reason(spec({{atom("peers"), list({})}})) == tuple({atom("bad_peers"), list({})}));
  CHECK(reason(spec({{atom("peers"), binary("x")}})) == tuple({atom("bad_peers"), binary("x")}));
  CHECK(reason(spec({{atom("peers"), list({42})}})) == tuple({atom("bad_peer"), 42}));
  CHECK(reason(spec({{atom("peers"), list({atom("nohost")})}})) == tuple({atom("bad_peer"), atom("nohost")}));
  CHECK(reason(spec({{atom("duration_ms"), 0}})) == tuple({atom("bad_duration"), 0}));
  CHECK(reason(spec({{atom("duration_ms"), -5}})) == tuple({atom("bad_duration"), -5}));
  CHECK(reason(spec({{atom("duration_ms"), 1.5}})) == tuple({atom("bad_duration"), 1.5}));
  CHECK(reason(spec({{atom("direction"), atom("sideways")}})) == tuple({atom("bad_direction"), atom("sideways")}));
  CHECK(reason(spec({{atom("start_at_us"), atom("now")}})) == tuple({atom("bad_start_at_us"), atom("now")}));
  CHECK(reason(spec({{atom("id"), atom("f")}})) == tuple({atom("bad_id"), atom("f")}));
  CHECK(reason(spec({{atom("duraton_ms"), 5}})) == tuple({atom("unknown_key"), atom("duraton_ms")}));
  CHECK(reason(tuple({atom("heal"), 7})) == tuple({atom("bad_id"), 7}));
  for (const Term& loss : {Term(0.0), Term(-0.5), Term(1.5), Term(0), Term(2), Term(1e-7),
                           Term(atom("half")), Term(binary("30%"))})
    CHECK(reason(spec({{atom("loss"), loss}})) == tuple({atom("bad_loss"), loss}));
  CHECK((*reason(spec({{atom("loss"), std::nan("")}})).tuple_of(2))[0] == atom("bad_loss"));  // NaN != NaN
  CHECK(reason(tuple({atom("events"), -1})) == tuple({atom("bad_sequence"), -1}));
  CHECK(reason(tuple({atom("events"), atom("x")})) == tuple({atom("bad_sequence"), atom("x")}));
  CHECK(reason(tuple({atom("subscribe"), atom("me")})) == tuple({atom("bad_pid"), atom("me")}));
  CHECK(reason(binary("status")) == tuple({atom("unknown_request"), binary("status")}));
}

TEST_CASE("a loss is a probability in (0, 1], kept in parts per million") {
  const auto parsed = [](const Term& loss) {
    auto r = proto::parse_request(tuple(
        {atom("partition"),
         map({{atom("peers"), list({binary("198.51.100.12")})}, {atom("duration_ms"), 10}, {atom("loss"), loss}})}));
    REQUIRE(std::holds_alternative<proto::Request>(r));
    return std::get<proto::PartitionRequest>(std::get<proto::Request>(r)).loss;
  };
  CHECK(parsed(0.5).ppm == 500'000);
  CHECK(parsed(1).ppm == 1'000'000);
  CHECK(parsed(1.0).total());
  CHECK(parsed(0.0000005).ppm == 1);  // half a ppm rounds up to the smallest loss
  CHECK(parsed(0.3333333).ppm == 333'333);
  CHECK(proto::Loss{250'000}.probability() == 0.25);
}

TEST_CASE("gen_call envelopes: Erlang's own bytes, our round trip, and a bad From") {
  auto golden_call = decode(golden("gen_call"));
  REQUIRE(golden_call.ok());
  auto call = proto::parse_gen_call(*golden_call);
  REQUIRE(call.ok());
  CHECK(call->from == Pid{"nonode@nohost", 42, 7, 0});
  CHECK(call->request == atom("status"));
  CHECK(call->tag.is<List>());  // [alias | Ref], kept opaque

  const proto::GenCall mine{kPid, Ref{"drv@198.51.100.1", 1, {9, 8, 7}}, atom("status")};
  auto again = proto::parse_gen_call(wire(proto::gen_call_term(mine)));
  REQUIRE(again.ok());
  CHECK(again->from == mine.from);
  CHECK(again->tag == mine.tag);

  const Term bad_from = tuple({atom("$gen_call"), tuple({atom("nopid"), atom("tag")}), atom("status")});
  CHECK(proto::is_gen_call(bad_from));
  auto rejected = proto::parse_gen_call(bad_from);
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.error().message.find("bad From") != std::string::npos);
  CHECK_FALSE(proto::is_gen_call(tuple({atom("$gen_cast"), atom("x")})));
}

TEST_CASE("the reply keeps the caller's tag unchanged") {
  const Term tag = improper_list({atom("alias")}, Ref{"n@h", 1, {1, 2, 3}});
  CHECK(wire(proto::gen_reply_term(tag, atom("ok"))) == tuple({tag, atom("ok")}));
}

TEST_CASE("events round-trip and keep their fields") {
  const proto::Event e{12,
                       "nodedown",
                       1795262605089309,
                       {{"observer", atom("app@198.51.100.11")},
                        {"peer", atom("app@198.51.100.12")},
                        {"reason", atom("net_tick_timeout")}}};
  auto back = proto::event_from_term(wire(proto::to_term(e)));
  REQUIRE(back.ok());
  CHECK(*back == e);
  REQUIRE(back->field("reason") != nullptr);
  CHECK(back->field("reason")->is_atom("net_tick_timeout"));

  const Term msg = wire(proto::event_message("ticksplit@198.51.100.11", e));
  REQUIRE(msg.tuple_of(3) != nullptr);
  CHECK((*msg.tuple_of(3))[0].is_atom("ticksplit_event"));
  CHECK((*msg.tuple_of(3))[1].is_atom("ticksplit@198.51.100.11"));
}

TEST_CASE("event decoding names what is wrong") {
  CHECK_FALSE(proto::event_from_term(atom("x")).ok());
  CHECK_FALSE(proto::event_from_term(atom_map({{"seq", 1}, {"type", atom("nodeup")}})).ok());
  auto r = proto::event_from_term(atom_map({{"seq", -1}, {"type", atom("nodeup")}, {"time_us", 1}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("seq") != std::string::npos);
}

TEST_CASE("status reply round-trips and carries the detection window") {
  proto::AgentStatus s;
  s.agent = "ticksplit@198.51.100.11";
  s.nodes = {{"app@198.51.100.11", true}, {"other@198.51.100.11", false}};
  s.net_ticktime_ms = 2000;
  s.tick_intensity = 4;
  s.backend = "none";
  s.version = "0.1.0";
  s.exempt = {"198.51.100.1/32"};
  s.max_fault_ms = 600000;
  s.events = {5, 4, 10000, 0};
  const Term t = wire(proto::status_reply(s));
  const Term* window = (*t.tuple_of(2))[1].get("detection_window_ms");
  REQUIRE(window != nullptr);
  CHECK(*window == tuple({1500, 2500}));
  auto back = proto::parse_status_reply(t);
  REQUIRE(back.ok());
  CHECK(*back == s);

  s.net_ticktime_ms.reset();
  const Term unknown = wire(proto::status_reply(s));
  CHECK((*unknown.tuple_of(2))[1].get("detection_window_ms")->is_atom("undefined"));
  CHECK_FALSE(proto::parse_status_reply(atom("error")).ok());
}

// The typed fault events (common/proto/fault.hpp) through the one codec: every type makes the
// trip to the wire (encoded and decoded as bytes) and back unchanged.
TEST_CASE("fault events round-trip through terms and bytes") {
  using namespace ticksplit::proto;
  const std::vector<TimedFaultEvent> all{
      {1'700'000'000'000'001, FaultStarted{"f1", {"app@198.51.100.12", "198.51.100.0/30"},
                                           AddressList{{"198.51.100.12", "198.51.100.1"}, 5}, Direction::both,
                                           "ctl@198.51.100.1", 1'700'000'000'100'000, 1'700'000'002'100'000,
                                           Loss{300'000}}},
      {1'700'000'000'000'002,
       FaultHealed{"f1", {"app@198.51.100.12"}, HealReason::owner_gone, true, 10, 20, Evidence{3, 180, 11, 19, 7}}},
      {1'700'000'000'000'003, FaultHealed{"f2", {}, HealReason::deadline, false, 10, 10, Evidence{0, 0, {}, {}}}},
      {1'700'000'000'000'004,
       FaultRecovered{"f1", {"app@198.51.100.12"}, false, 250'000,
                      {PeerOutage{"198.51.100.12", 250'000, true}, PeerOutage{"198.51.100.13", {}, false}}, 2}},
  };
  for (const auto& te : all) {
    auto wire = to_event(te);
    wire.seq = 7;
    auto bytes = ticksplit::ei::encode(to_term(wire));
    REQUIRE(bytes);
    auto term = ticksplit::ei::decode(bytes->data(), bytes->size());
    REQUIRE(term);
    auto back = event_from_term(*term);
    REQUIRE(back);
    CHECK(back->type == event_type(te.event));
    CHECK(back->time_us == te.time_us);
    auto typed = fault_event_from(*back);
    REQUIRE_MESSAGE(typed, (typed ? "" : typed.error().message));
    CHECK(*typed == te.event);
  }
}

// What an agent sends, written out as docs/protocol.md gives it (not made by to_event).
TEST_CASE("a fault_healed as the agent sends it decodes; a malformed one names its field") {
  using namespace ticksplit::proto;
  using ticksplit::ei::atom;
  using ticksplit::ei::binary;
  Event e{3, "fault_healed", 100, {}};
  e.fields = {{"id", binary("f9")},           {"peers", ticksplit::ei::list({atom("app@h")})},
              {"reason", atom("request")},    {"started", atom("true")},
              {"start_us", 40},               {"end_us", 90},
              {"dropped_packets", 2},         {"dropped_bytes", 120},
              {"first_drop_us", 41},          {"last_drop_us", atom("undefined")},
              {"passed_packets", 3}};
  auto h = fault_event_from(e);
  REQUIRE(h);
  const auto& healed = std::get<FaultHealed>(*h);
  CHECK(healed.peers == std::vector<std::string>{"app@h"});
  CHECK(healed.reason == HealReason::request);
  CHECK(healed.evidence == Evidence{2, 120, 41, std::nullopt, 3});
  e.fields[2].second = atom("bored");
  CHECK(fault_event_from(e).error().message.find("reason") != std::string::npos);
  e.fields.erase(e.fields.begin() + 2);
  CHECK(fault_event_from(e).error().message.find("without reason") != std::string::npos);
  CHECK_FALSE(fault_event_from(Event{1, "nodedown", 1, {}}));
}

TEST_CASE("refusals have the wire shapes docs/protocol.md lists") {
  using namespace ticksplit::proto;
  using K = Refusal::Kind;
  const auto text = [](const Refusal& r) { return ticksplit::ei::to_string(to_term(r)); };
  CHECK(text({K::no_peers, {}, {}, 0, 0}) == "no_peers");
  CHECK(text({K::bad_duration, {}, {}, 0, 0}) == "{bad_duration,0}");
  CHECK(text({K::duration_above_max_fault, {}, {}, 9, 5}) == "{duration_above_max_fault,9,5}");
  CHECK(text({K::agent_address_limit, {}, {}, 2, 1}) == "{agent_address_limit,2,1}");
  CHECK(text({K::exempt, "198.51.100.1", {}, 0, 0}) == "{exempt,<<\"198.51.100.1\">>}");
  CHECK(text({K::unresolvable_peer, "x@h.example", "no", 0, 0}) == "{unresolvable_peer,'x@h.example',<<\"no\">>}");
  CHECK(text({K::bad_peer, "zz", "why", 0, 0}) == "{bad_peer,<<\"zz\">>,<<\"why\">>}");
  CHECK(text({K::too_many_peer_hosts, {}, {}, 16, 0}) == "{too_many_peer_hosts,16}");
  CHECK(text({K::unresolvable_requester, "h.invalid", {}, 0, 0}) == "{unresolvable_requester,<<\"h.invalid\">>}");
}
