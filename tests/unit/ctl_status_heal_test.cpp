// status and heal against the scripted agents: every agent asked in one round, replies read
// into types in the order named, an agent that does not answer reported as an error without
// hiding the others, and the text printed for each.
#include <doctest/doctest.h>

#include "controller/report/status_text.hpp"
#include "controller/run/status_heal.hpp"
#include "fake_agents.hpp"

using namespace ticksplit;

TEST_CASE("status: each agent's report in the order named; a silent one is an error") {
  test::FakeAgents agents;
  agents.held["ticksplit@198.51.100.12"] = 2;
  agents.unreachable.insert("ticksplit@198.51.100.13");
  const std::vector<std::string> names{"ticksplit@198.51.100.12", "ticksplit@198.51.100.11", "ticksplit@198.51.100.13"};
  const auto replies = ctl::ask_status(agents, names);
  REQUIRE(replies.size() == 3);
  CHECK(agents.calls.size() == 3);
  CHECK(agents.rounds == 1);  // every agent asked before any reply is awaited
  for (const auto& [agent, request] : agents.calls) CHECK(request.is_atom("status"));
  CHECK(replies[0].agent == names[0]);
  REQUIRE(replies[0].status.has_value());
  CHECK(replies[0].status->faults.size() == 2);
  CHECK(replies[1].status->faults.empty());
  CHECK_FALSE(replies[2].status.has_value());
  REQUIRE(replies[2].error.has_value());
  CHECK(replies[2].error->find("no reply") != std::string::npos);

  CHECK(ctl::describe_reply(replies[0]) ==
        "ticksplit@198.51.100.12: backend fake, version 0, net_ticktime 2000 ms (window 1500-2500 ms), 2 fault(s)\n"
        "  app@198.51.100.12 joined\n"
        "  fault <<\"f0\">>\n"
        "  fault <<\"f1\">>\n");
  CHECK(ctl::describe_reply(replies[2]).empty());
}

TEST_CASE("heal: heal_all on every agent, the count each healed") {
  test::FakeAgents agents;
  agents.held["ticksplit@198.51.100.11"] = 3;
  const auto replies = ctl::heal_all(agents, {"ticksplit@198.51.100.11", "ticksplit@198.51.100.12"});
  REQUIRE(replies.size() == 2);
  CHECK(agents.requests<proto::HealAllRequest>().size() == 2);
  CHECK(replies[0].healed == 3);
  CHECK(replies[1].healed == 0);
  CHECK(agents.held["ticksplit@198.51.100.11"] == 0);
  CHECK(ctl::describe_reply(replies[0]) == "ticksplit@198.51.100.11: healed 3\n");
}
