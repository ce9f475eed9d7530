// kill_process in the protocol: the request, its rejections, the process_killed event, the
// too_many_kills refusal (common/proto/request.*, fault.*, fault_codec.*).
#include <doctest/doctest.h>

#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
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
Term reason(const Term& t) {
  auto parsed = proto::parse_request(t);
  REQUIRE(std::holds_alternative<proto::Rejected>(parsed));
  return std::get<proto::Rejected>(parsed).reason;
}
Term kill(std::vector<std::pair<Term, Term>> spec) { return tuple({atom("kill_process"), map(std::move(spec))}); }
}  // namespace

TEST_CASE("kill_process requests round-trip, by name and by supervisor") {
  proto::KillProcessRequest by_name;
  by_name.node = "app@198.51.100.11";
  by_name.target = {proto::ProcessTarget::Kind::name, "ts_worker"};
  proto::KillProcessRequest by_sup = by_name;
  by_sup.target = {proto::ProcessTarget::Kind::child_of, "ts_sup"};
  by_sup.restart_window_ms = 60000;
  by_sup.start_at_us = 1'700'000'000'000'000;
  by_sup.id = "k-1";
  for (const proto::Request& r : {proto::Request{by_name}, proto::Request{by_sup}}) {
    auto parsed = proto::parse_request(wire(proto::to_term(r)));
    REQUIRE(std::holds_alternative<proto::Request>(parsed));
    CHECK(std::get<proto::Request>(parsed) == r);
  }
  // The defaults: a 1 s restart window, now.
  auto parsed = proto::parse_request(kill({{atom("node"), atom("a@h")}, {atom("name"), atom("w")}}));
  const auto& r = std::get<proto::KillProcessRequest>(std::get<proto::Request>(parsed));
  CHECK(r.restart_window_ms == 1000);
  CHECK_FALSE(r.start_at_us);
  CHECK_FALSE(r.id);
}

TEST_CASE("bad kill_process requests are rejected with their reason") {
  const Term node = atom("app@h");
  CHECK(reason(tuple({atom("kill_process"), list({})})) == tuple({atom("spec_not_a_map"), list({})}));
  CHECK(reason(kill({{atom("name"), atom("w")}})) == tuple({atom("bad_node"), atom("missing")}));
  CHECK(reason(kill({{atom("node"), atom("nohost")}, {atom("name"), atom("w")}})) ==
        tuple({atom("bad_node"), atom("nohost")}));
  CHECK(reason(kill({{atom("node"), node}})) == tuple({atom("bad_target"), atom("missing")}));
  CHECK(reason(kill({{atom("node"), node}, {atom("name"), atom("w")}, {atom("supervisor"), atom("s")}})) ==
        tuple({atom("bad_target"), tuple({atom("w"), atom("s")})}));
  CHECK(reason(kill({{atom("node"), node}, {atom("name"), binary("w")}})) == tuple({atom("bad_target"), binary("w")}));
  CHECK(reason(kill({{atom("node"), node}, {atom("supervisor"), 7}})) == tuple({atom("bad_target"), 7}));
  CHECK(reason(kill({{atom("node"), node}, {atom("name"), atom("undefined")}})) ==
        tuple({atom("bad_target"), atom("undefined")}));
  const auto with_window = [&](Term w) {
    return kill({{atom("node"), node}, {atom("name"), atom("w")}, {atom("restart_window_ms"), w}});
  };
  for (const Term& w : {Term(9), Term(60001), Term(-1), Term(1.5), Term(atom("long"))})
    CHECK(reason(with_window(w)) == tuple({atom("bad_restart_window"), w}));
  CHECK(std::holds_alternative<proto::Request>(proto::parse_request(with_window(10))));
  CHECK(reason(kill({{atom("node"), node}, {atom("name"), atom("w")}, {atom("duration_ms"), 5}})) ==
        tuple({atom("unknown_key"), atom("duration_ms")}));
  CHECK(reason(kill({{atom("node"), node}, {atom("name"), atom("w")}, {atom("start_at_us"), -1}})) ==
        tuple({atom("bad_start_at_us"), -1}));
  CHECK(reason(kill({{atom("node"), node}, {atom("name"), atom("w")}, {atom("id"), binary(std::string(129, 'x'))}})) ==
        tuple({atom("bad_id"), binary(std::string(129, 'x'))}));
}

TEST_CASE("process_killed events round-trip through terms and bytes") {
  using namespace ticksplit::proto;
  ProcessKilled restarted;
  restarted.id = "k1";
  restarted.node = "app@198.51.100.11";
  restarted.owner = "ctl@198.51.100.1";
  restarted.target = {ProcessTarget::Kind::child_of, "ts_sup"};
  restarted.child_id = "worker";
  restarted.pid = "<0.90.0>";
  restarted.planned_us = 1'700'000'000'000'000;
  restarted.killed_us = 1'700'000'000'000'400;
  restarted.restart_window_ms = 1000;
  restarted.restarted = true;
  restarted.new_pid = "<0.95.0>";
  restarted.restarted_us = 1'700'000'000'000'900;
  ProcessKilled missing;
  missing.id = "k2";
  missing.node = "app@198.51.100.11";
  missing.owner = "ctl@198.51.100.1";
  missing.target = {ProcessTarget::Kind::name, "nobody"};
  missing.planned_us = 5;
  missing.restart_window_ms = 10;
  missing.error = "no process is registered as nobody";
  for (const auto& k : {restarted, missing}) {
    const TimedFaultEvent te{1'700'000'000'000'001, k};
    auto bytes = ticksplit::ei::encode(to_term(to_event(te)));
    REQUIRE(bytes);
    auto term = ticksplit::ei::decode(bytes->data(), bytes->size());
    REQUIRE(term);
    auto back = event_from_term(*term);
    REQUIRE(back);
    CHECK(back->type == "process_killed");
    auto typed = fault_event_from(*back);
    REQUIRE_MESSAGE(typed, (typed ? "" : typed.error().message));
    CHECK(*typed == te.event);
  }
  // The target's name is under `name` or `supervisor`, as the request had it.
  const auto e = to_event({1, missing});
  CHECK(e.field("name") != nullptr);
  CHECK(e.field("supervisor") == nullptr);
  auto bad = e;
  for (auto& [k, v] : bad.fields)
    if (k == "target") v = atom("sideways");
  CHECK(fault_event_from(bad).error().message.find("target") != std::string::npos);
}

TEST_CASE("too_many_kills has the wire shape docs/protocol.md lists") {
  using K = proto::Refusal::Kind;
  CHECK(to_string(proto::to_term(proto::Refusal{K::too_many_kills, {}, {}, 256, 0})) == "{too_many_kills,256}");
}
