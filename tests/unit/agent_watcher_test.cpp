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
  auto started = watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 2, 4, 4242}));
  REQUIRE(started.ok());
  REQUIRE(started->started.has_value());
  CHECK(started->started->net_ticktime_ms == 2000);
  CHECK(started->started->tick_intensity == 4);
  CHECK(started->started->os_pid == 4242);
  CHECK_FALSE(watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 0, 4, 4242})).ok());
  CHECK_FALSE(watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 2, 4})).ok());  // not the shape
  // A node that is pid 1 in its container is joined; what is no pid leaves it unpausable, joined.
  CHECK(watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 2, 4, 1}))->started->os_pid == 1);
  for (const Term& bad : {Term(0), Term(-5), Term(std::int64_t{1} << 23), Term(atom("x"))}) {
    auto r = watcher::on_reply(Step::start, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 2, 4, bad}));
    REQUIRE(r.ok());
    CHECK_FALSE(r->started->os_pid.has_value());
  }
  CHECK_FALSE(watcher::on_reply(Step::start, tuple({atom("badrpc"), atom("x")})).ok());
}

TEST_CASE("the start call names this agent so its watcher is its own") {
  const auto call = watcher::call_for(watcher::Step::start, "ticksplit@198.51.100.11", "ticksplit", "warning");
  CHECK(std::string(call.fun) == "start");
  CHECK(call.args == list({atom("ticksplit@198.51.100.11"), atom("ticksplit"), atom("warning")}));
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

TEST_CASE("forwarded log lines become log events at the log event's time; malformed ones are refused") {
  const auto msg = [](Term level, Term info) {
    return tuple({atom("ticksplit_watcher"), atom("app@h1"), atom("log"), std::move(level), std::move(info)});
  };
  const Term good = msg(atom("warning"), list({tuple({atom("time_us"), std::int64_t{1'700'000'000'123'456}}),
                                               tuple({atom("text"), binary("disk almost full")}),
                                               tuple({atom("dropped"), std::int64_t{3}})}));
  REQUIRE(watcher::is_watcher_message(good));
  CHECK(watcher::observer_of(good) == "app@h1");
  auto e = watcher::to_event(good);
  REQUIRE(e.ok());
  CHECK(e->type == "log");
  CHECK(e->time_us == 1'700'000'000'123'456);
  CHECK(e->field("node")->is_atom("app@h1"));
  CHECK(e->field("level")->is_atom("warning"));
  CHECK(*e->field("message") == binary("disk almost full"));
  CHECK(*e->field("dropped") == Term(3));

  const auto info = [](Term text) {
    return list({tuple({atom("time_us"), std::int64_t{1}}), tuple({atom("text"), std::move(text)}),
                 tuple({atom("dropped"), std::int64_t{0}})});
  };
  CHECK_FALSE(watcher::to_event(msg(atom("loud"), info(binary("x")))).ok());       // not a logger level
  CHECK_FALSE(watcher::to_event(msg(atom("error"), info(atom("x")))).ok());        // text not a binary
  CHECK_FALSE(watcher::to_event(msg(atom("error"), list({}))).ok());               // nothing in it
  // Cut to max_log_text bytes, never inside a UTF-8 sequence ("é" is 2 bytes).
  const std::string long_text = std::string(watcher::max_log_text - 1, 'a') + "\xc3\xa9" + "tail";
  auto cut = watcher::to_event(msg(atom("error"), info(binary(long_text))));
  REQUIRE(cut.ok());
  CHECK(cut->field("message")->as<ei::Binary>()->bytes == std::string(watcher::max_log_text - 1, 'a'));
  // Not UTF-8 (a lone continuation byte, an overlong '/', a surrogate): each bad byte a '?'.
  auto bad = watcher::to_event(msg(atom("error"), info(binary("a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xc3\xa9"))));
  REQUIRE(bad.ok());
  CHECK(bad->field("message")->as<ei::Binary>()->bytes == "a?b??c???d\xc3\xa9");
  const std::string exact = std::string(watcher::max_log_text - 2, 'a') + "\xc3\xa9" + "tail";
  CHECK(watcher::to_event(msg(atom("error"), info(binary(exact))))->field("message")->as<ei::Binary>()->bytes ==
        exact.substr(0, watcher::max_log_text));
}
