// The event fan-out against a fake of the loop's connections: each event gets its seq in the
// log and reaches every subscriber once, as {ticksplit_event, Agent, Event}; a node whose
// connection cannot take it is reported once (for the loop to drop), and the others still get it.
#include <doctest/doctest.h>

#include <ei.h>

#include <map>
#include <string>
#include <vector>

#include "agent/event_fanout.hpp"
#include "common/ei/decode.hpp"

using namespace ticksplit;
using agent::EventFanout;

namespace {

struct FakeConnections final : EventFanout::Sender {
  std::map<std::string, Sent> by_node;  // default: queued
  std::vector<std::pair<ei::Pid, ei::Term>> sent;
  Sent send(const ei::Pid& to, const ei::XBuff& message) override {
    const auto it = by_node.find(to.node);
    const Sent how = it == by_node.end() ? Sent::queued : it->second;
    if (how == Sent::queued) {
      auto t = ei::decode(message.data(), message.size());
      REQUIRE(t);
      sent.emplace_back(to, *t);
    }
    return how;
  }
};

ei::Pid pid(const char* node, std::uint32_t n) { return ei::Pid{node, n, 0, 1}; }

}  // namespace

TEST_CASE("event fan-out: logged with a seq, sent to each subscriber, failures reported once") {
  ei_init();
  agent::EventLog log(100);
  agent::Subscribers subs;
  REQUIRE(subs.add(pid("a@h1", 1)) == agent::Subscribers::Added::added);
  REQUIRE(subs.add(pid("b@h2", 2)) == agent::Subscribers::Added::added);
  REQUIRE(subs.add(pid("b@h2", 3)) == agent::Subscribers::Added::added);
  REQUIRE(subs.add(pid("c@h3", 4)) == agent::Subscribers::Added::added);
  EventFanout fanout("ticksplit@h0", log, subs);
  FakeConnections conns;
  conns.by_node["b@h2"] = EventFanout::Sender::Sent::failed;
  conns.by_node["c@h3"] = EventFanout::Sender::Sent::no_connection;

  const auto broken = fanout.publish({0, "nodedown", 42, {{"peer", ei::atom("x@h9")}}}, conns);
  CHECK(broken == std::vector<std::string>{"b@h2"});  // once, though it has two subscribers
  REQUIRE(conns.sent.size() == 1);                    // a@h1; c@h3 has no connection
  CHECK(conns.sent[0].first == pid("a@h1", 1));
  const auto* msg = conns.sent[0].second.tuple_of(3);
  REQUIRE(msg != nullptr);
  CHECK((*msg)[0].is_atom("ticksplit_event"));
  CHECK((*msg)[1].is_atom("ticksplit@h0"));
  CHECK(*(*msg)[2].get("seq") == ei::Term(1));
  CHECK((*msg)[2].get("type")->is_atom("nodedown"));
  const auto page = log.since(0, 10, 1 << 20, 43);
  REQUIRE(page.events.size() == 1);
  CHECK(page.events[0].seq == 1);

  fanout.publish({0, "nodeup", 43, {}}, conns);
  CHECK(log.since(0, 10, 1 << 20, 44).events.back().seq == 2);
}
