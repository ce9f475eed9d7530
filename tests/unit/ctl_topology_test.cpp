// The effective topology of a fault on distribution's TCP links: the golden vectors shared with
// ticksplit_groups:effective/2 (made by a separate brute force over every shape on 3-7 nodes and
// one_way), and the warnings the planner prints when a shape collapses into something else.
#include <doctest/doctest.h>

#include "controller/plan/plan.hpp"
#include "controller/plan/topology.hpp"
#include "controller/report/summary.hpp"
#include "controller/schedule/schedule.hpp"
#include "golden.hpp"

using namespace ticksplit::ctl;

namespace {

std::string links_text(const std::vector<Link>& links) {
  std::string out;
  for (const auto& [a, b] : links) out += (out.empty() ? "" : ",") + a + "/" + b;
  return out.empty() ? "-" : out;
}

std::string groups_text(const Groups& groups) {
  std::string out;
  for (const auto& g : groups) {
    out += out.empty() ? "" : "|";
    for (std::size_t i = 0; i < g.size(); ++i) out += (i ? "," : "") + g[i];
  }
  return out;
}

}  // namespace

TEST_CASE("effective topology: the golden vectors shared with the Erlang library") {
  const auto rows = golden_rows("topology.txt");
  REQUIRE(rows.size() >= 25);
  for (const auto& r : rows) {
    const auto t = effective_topology(golden_split(r.at(0), ','), golden_drop_sets(r.at(1)));
    CHECK_MESSAGE(links_text(t.cut) == r.at(2), r.at(1));
    CHECK_MESSAGE(links_text(t.one_way) == r.at(3), r.at(1));
    CHECK_MESSAGE(groups_text(t.groups) == r.at(4), r.at(1));
    CHECK(t.cut.size() + t.up.size() == golden_split(r.at(0), ',').size() * (golden_split(r.at(0), ',').size() - 1) / 2);
  }
}

TEST_CASE("topology warnings: one-way cuts and a ring of majorities that is not one") {
  const std::vector<std::string> three{"a@h1", "b@h2", "c@h3"};
  const auto ring3 = effective_topology(three, majorities_ring(three));
  const auto w = topology_warnings("majorities_ring", three, ring3);
  REQUIRE(w.size() == 2);
  CHECK(w[0].find("3 link(s) cut one way only") != std::string::npos);
  CHECK(w[1] == "majorities_ring on 3 nodes is not a ring of majorities on TCP: a@h1 sees 1 of 3, b@h2 sees 1 of 3, "
                "c@h3 sees 1 of 3 (no majority)");
  CHECK(ring3.groups.size() == 3);

  const std::vector<std::string> five{"a@h1", "b@h2", "c@h3", "d@h4", "e@h5"};
  CHECK(topology_warnings("majorities_ring", five, effective_topology(five, majorities_ring(five))).empty());

  const auto one_way = effective_topology(three, Grudge{{"b@h2", {"a@h1"}}});
  CHECK(is_cut(one_way, "b@h2", "a@h1"));
  CHECK(is_cut(one_way, "a@h1", "b@h2"));
  CHECK_FALSE(is_cut(one_way, "a@h1", "c@h3"));
  const auto w1 = topology_warnings("one_way", three, one_way);
  REQUIRE(w1.size() == 1);
  CHECK(w1[0] == "one_way: 1 link(s) cut one way only (a@h1 - b@h2); distribution's TCP connection goes down both "
                 "ways (the end that still receives detects it later)");
  CHECK(topology_warnings("isolate", three, effective_topology(three, complete_grudge({{"a@h1"}, {"b@h2", "c@h3"}})))
            .empty());
}

TEST_CASE("the plan shows what distribution's links do and warns when a shape collapses") {
  ClusterInfo c;
  c.nodes = {"a@198.51.100.11", "b@198.51.100.12", "c@198.51.100.13"};
  for (const auto& n : c.nodes) c.agent_of[n] = "ticksplit@" + n.substr(n.find('@') + 1);
  c.net_ticktime_ms = 2000;
  const auto plan = make_plan(
      parse_schedule("agents: [ticksplit@198.51.100.11]\nsteps:\n  - partition: majorities_ring\n    for: 1s\n"
                     "  - isolate: a@198.51.100.11\n    for: 1s\n",
                     "m.yaml"),
      c, 7);
  const auto& ring = std::get<PlannedFault>(plan.at(0));
  CHECK(ring.topology.groups.size() == 3);
  CHECK(ring.warnings.size() == 2);
  CHECK(std::get<PlannedFault>(plan.at(1)).warnings.empty());
  const auto text = describe_plan(plan, c, 7);
  CHECK(text.find("on distribution's TCP links: 3 of 3 cut; who still reaches whom: [a@198.51.100.11] "
                  "[b@198.51.100.12] [c@198.51.100.13]") != std::string::npos);
  CHECK(text.find("WARNING: majorities_ring on 3 nodes is not a ring of majorities on TCP") != std::string::npos);
  CHECK(text.find("[a@198.51.100.11] [b@198.51.100.12 c@198.51.100.13]") != std::string::npos);
}
