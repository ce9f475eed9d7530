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

TEST_CASE("install replies are checked step by step") {
  CHECK(watcher::check_reply(0, atom("false")).ok());
  CHECK(watcher::check_reply(1, tuple({atom("module"), atom("ticksplit_watcher")})).ok());
  CHECK_FALSE(watcher::check_reply(1, tuple({atom("error"), atom("badfile")})).ok());
  CHECK_FALSE(watcher::check_reply(1, tuple({atom("badrpc"), atom("nodedown")})).ok());
  auto started = watcher::check_reply(2, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 2, 4}));
  REQUIRE(started.ok());
  REQUIRE(started->has_value());
  CHECK((*started)->net_ticktime_ms == 2000);
  CHECK((*started)->tick_intensity == 4);
  CHECK_FALSE(watcher::check_reply(2, tuple({atom("ok"), Pid{"a@h", 1, 0, 1}, 0, 4})).ok());
  CHECK_FALSE(watcher::check_reply(3, atom("ok")).ok());
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

  CHECK_FALSE(watcher::to_event(tuple({atom("ticksplit_watcher"), atom("a@h"), atom("exploded"), atom("b@h"),
                                       list({})}))
                  .ok());
  CHECK_FALSE(watcher::to_event(tuple({atom("ticksplit_watcher"), 1, atom("nodeup"), atom("b@h"), list({})})).ok());
}
