#include <doctest/doctest.h>

#include "agent/watcher.hpp"

using namespace ticksplit;
using namespace ticksplit::ei;
namespace watcher = ticksplit::agent::watcher;

TEST_CASE("the embedded watcher is a BEAM file") {
  const auto b = watcher::beam();
  REQUIRE(b.size() > 100);
  CHECK(std::string(b.begin(), b.begin() + 4) == "FOR1");
}

TEST_CASE("install: an identical module already loaded skips straight to start") {
  const auto md5 = watcher::beam_md5();
  REQUIRE(md5.size() == 16);
  auto same = watcher::on_reply(watcher::Step::check_loaded, binary(std::string(md5.begin(), md5.end())));
  REQUIRE(same.ok());
  CHECK(same->step == watcher::Step::start);
  auto other = watcher::on_reply(watcher::Step::check_loaded, binary(std::string(16, 'x')));
  CHECK(other->step == watcher::Step::purge);
  auto absent = watcher::on_reply(watcher::Step::check_loaded, tuple({atom("badrpc"), atom("x")}));
  CHECK(absent->step == watcher::Step::purge);
}

TEST_CASE("install replies are checked step by step") {
  using watcher::Step;
  CHECK(watcher::on_reply(Step::purge, atom("false"))->step == Step::load);
  CHECK_FALSE(watcher::on_reply(Step::purge, tuple({atom("badrpc"), atom("nodedown")})).ok());
  CHECK(watcher::on_reply(Step::load, tuple({atom("module"), atom("ticksplit_watcher")}))->step == Step::start);
  CHECK_FALSE(watcher::on_reply(Step::load, tuple({atom("error"), atom("badfile")})).ok());
  auto started = watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 2, 4}));
  REQUIRE(started.ok());
  REQUIRE(started->started.has_value());
  CHECK(started->started->net_ticktime_ms == 2000);
  CHECK(started->started->tick_intensity == 4);
  CHECK_FALSE(watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 0, 4})).ok());
  CHECK_FALSE(watcher::on_reply(Step::start, tuple({atom("badrpc"), atom("x")})).ok());
}

TEST_CASE("the start call names this agent so its watcher is its own") {
  const auto call = watcher::call_for(watcher::Step::start, "ticksplit@198.51.100.11", "ticksplit");
  CHECK(std::string(call.fun) == "start");
  CHECK(call.args == list({atom("ticksplit@198.51.100.11"), atom("ticksplit")}));
}

TEST_CASE("watcher messages become nodeup/nodedown events with the reason") {
  const Term down = tuple({atom("ticksplit_watcher"), atom("app@h1"), atom("nodedown"), atom("app@h2"),
                           list({tuple({atom("nodedown_reason"), atom("net_tick_timeout")}),
                                 tuple({atom("node_type"), atom("visible")})})});
  REQUIRE(watcher::is_watcher_message(down));
  auto e = watcher::to_event(down);
  REQUIRE(e.ok());
  CHECK(e->type == "nodedown");
  CHECK(e->field("observer")->is_atom("app@h1"));
  CHECK(e->field("peer")->is_atom("app@h2"));
  CHECK(e->field("reason")->is_atom("net_tick_timeout"));
  CHECK(e->field("node_type")->is_atom("visible"));

  const Term up = tuple({atom("ticksplit_watcher"), atom("app@h1"), atom("nodeup"), atom("app@h2"), list({})});
  auto u = watcher::to_event(up);
  REQUIRE(u.ok());
  CHECK(u->field("reason") == nullptr);

  CHECK_FALSE(
      watcher::to_event(tuple({atom("ticksplit_watcher"), atom("a@h"), atom("exploded"), atom("b@h"), list({})})).ok());
  CHECK_FALSE(watcher::to_event(tuple({atom("ticksplit_watcher"), 1, atom("nodeup"), atom("b@h"), list({})})).ok());
}
