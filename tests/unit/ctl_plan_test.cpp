// The planner: each shape's drop sets for 3, 5 and 7 nodes, window classes, seeded
// reproducibility, unknown nodes.
#include <doctest/doctest.h>

#include <algorithm>
#include <utility>

#include "common/node_name.hpp"
#include "controller/plan/plan.hpp"
#include "golden.hpp"

using namespace ticksplit;
using namespace ticksplit::ctl;

namespace {

std::vector<std::string> nodes(int n) {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back("n" + std::to_string(i) + "@h");
  return v;
}

// Who `node` can hear from (itself included): everyone not in its grudge.
std::set<std::string> sees(const Grudge& g, const std::vector<std::string>& all, const std::string& node) {
  std::set<std::string> s(all.begin(), all.end());
  if (auto it = g.find(node); it != g.end())
    for (const auto& d : it->second) s.erase(d);
  return s;
}

ClusterInfo cluster(int n) {
  ClusterInfo c;
  c.nodes = nodes(n);
  for (const auto& x : c.nodes) c.agent_of[x] = "agent-" + x;  // one agent per node
  c.net_ticktime_ms = 2000;
  c.tick_intensity = 4;
  return c;
}

}  // namespace

TEST_CASE("halves and groups: every node drops exactly the other side") {
  for (int n : {3, 5, 7}) {
    auto h = halves(nodes(n));
    CHECK(h[0].size() == static_cast<std::size_t>(n / 2));
    CHECK(h[1].size() == static_cast<std::size_t>(n - n / 2));
    auto g = complete_grudge(h);
    for (const auto& a : h[0]) CHECK(g[a] == std::set<std::string>(h[1].begin(), h[1].end()));
    for (const auto& b : h[1]) CHECK(g[b] == std::set<std::string>(h[0].begin(), h[0].end()));
  }
}

TEST_CASE("majorities ring: every node sees a majority, no two the same") {
  for (int n : {3, 5, 7}) {
    CAPTURE(n);
    const auto all = nodes(n);
    auto g = majorities_ring(all);
    std::set<std::set<std::string>> distinct;
    for (const auto& node : all) {
      auto s = sees(g, all, node);
      CHECK(s.count(node) == 1);
      CHECK(s.size() == static_cast<std::size_t>(n / 2 + 1));
      distinct.insert(s);
    }
    CHECK(distinct.size() == all.size());
  }
}

TEST_CASE("bridge: two sides, one node sees both, the sides do not see each other") {
  for (int n : {3, 5, 7}) {
    CAPTURE(n);
    const auto all = nodes(n);
    auto g = bridge(all);
    const auto h = halves(all);
    const auto b = h[1].front();
    CHECK(sees(g, all, b).size() == all.size());
    for (const auto& a : h[0]) {
      CHECK(sees(g, all, a).count(b) == 1);
      for (const auto& x : h[1])
        if (x != b) CHECK(sees(g, all, a).count(x) == 0);
    }
  }
}

TEST_CASE("a plan: durations resolved, classes drawn from the seed, same seed same plan") {
  auto s = parse_schedule(R"(agents: [ticksplit@h]
steps:
  - isolate: n3@h
    for: 1.3T
  - wait: 2T
  - partition: random_halves
    for: below_window
  - partition: majorities_ring
    for: above_window
  - one_way: {from: n1@h, to: n2@h}
    for: 3s
  - repeat: 2
    steps: [{partition: bridge, for: in_window}]
)",
                          "p.yaml");
  const auto c = cluster(5);
  auto a = make_plan(s, c, 7);
  auto b = make_plan(s, c, 7);
  auto other = make_plan(s, c, 8);
  REQUIRE(a.size() == 7);
  const auto& iso = std::get<PlannedFault>(a[0]);
  CHECK(iso.duration_ms == 2600);
  CHECK(iso.window_class == WindowClass::above_window);
  CHECK(iso.grudge.at("n3@h").size() == 4);
  CHECK(std::get<PlannedWait>(a[1]).ms == 4000);
  const auto& below = std::get<PlannedFault>(a[2]);
  CHECK(below.window_class == WindowClass::below_window);
  CHECK(below.duration_ms >= 200);
  CHECK(below.duration_ms <= 675);
  CHECK(std::get<PlannedFault>(a[3]).window_class == WindowClass::above_window);
  const auto& ow = std::get<PlannedFault>(a[4]);
  CHECK(ow.grudge == Grudge{{"n2@h", {"n1@h"}}});
  CHECK(std::get<PlannedFault>(a[5]).window_class == WindowClass::in_window);
  CHECK(std::get<PlannedFault>(a[6]).number == 6);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (const auto* f = std::get_if<PlannedFault>(&a[i])) {
      CHECK(f->grudge == std::get<PlannedFault>(b[i]).grudge);
      CHECK(f->duration_ms == std::get<PlannedFault>(b[i]).duration_ms);
    }
  }
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (const auto* f = std::get_if<PlannedFault>(&a[i]))
      differs = differs || f->grudge != std::get<PlannedFault>(other[i]).grudge ||
                f->duration_ms != std::get<PlannedFault>(other[i]).duration_ms;
  CHECK(differs);
}

namespace {
std::string grudge_text(const Grudge& g) {
  std::string out;
  for (const auto& [node, peers] : g) {
    if (peers.empty()) continue;
    out += (out.empty() ? "" : ";") + node + "=";
    bool first = true;
    for (const auto& p : peers) out += (std::exchange(first, false) ? "" : "+") + p;
  }
  return out;
}
}  // namespace

// The rules the Erlang library shares (ticksplit_groups_tests.erl reads the same files).
TEST_CASE("shapes: the golden vectors shared with the Erlang library") {
  const auto rows = golden_rows("shapes.txt");
  REQUIRE(rows.size() == 25);
  for (const auto& r : rows) {
    const auto& shape = r.at(0);
    Grudge got;
    if (shape == "groups") {
      Groups groups;
      for (const auto& g : golden_split(r.at(1), '|')) groups.push_back(golden_split(g, ','));
      got = complete_grudge(groups);
    } else {
      const auto nodes = golden_split(r.at(1), ',');
      if (shape == "isolate") got = complete_grudge({{nodes.front()}, {nodes.begin() + 1, nodes.end()}});
      if (shape == "halves") got = complete_grudge(halves(nodes));
      if (shape == "majorities_ring") got = majorities_ring(nodes);
      if (shape == "bridge") got = bridge(nodes);
    }
    CHECK_MESSAGE(grudge_text(got) == r.at(2), shape << " " << r.at(1));
  }
}

TEST_CASE("drop sets to per-agent requests: the golden vectors shared with the Erlang library") {
  const auto rows = golden_rows("requests.txt");
  REQUIRE(rows.size() >= 8);
  for (const auto& r : rows) {
    auto got = per_agent(golden_drop_sets(r.at(0)), [](const std::string& n) { return *ticksplit::default_agent_of(n); });
    std::string text;
    if (const auto* conflict = std::get_if<DropConflict>(&got)) {
      text = std::string("error:") + (conflict->kind == DropConflict::Kind::same_agent ? "same_agent" : "own_host") +
             ":" + conflict->node + "," + conflict->other;
    } else {
      for (const auto& d : std::get<std::vector<AgentDrop>>(got)) {
        text += (text.empty() ? "" : ";") + d.agent + "=";
        for (std::size_t i = 0; i < d.nodes.size(); ++i) text += (i ? "+" : "") + d.nodes[i];
        text += ">";
        bool first = true;
        for (const auto& p : d.peers) text += (std::exchange(first, false) ? "" : "+") + p;
      }
    }
    CHECK_MESSAGE(text == r.at(1), r.at(0));
  }
}

TEST_CASE("nodes of one agent on different sides, or cut from each other, are refused at planning") {
  auto c = cluster(3);
  for (auto& [node, agent] : c.agent_of) agent = "ticksplit@h";  // one host
  const auto error_of = [&](const std::string& step) {
    try {
      make_plan(parse_schedule("agents: [ticksplit@h]\nsteps:\n" + step, "a.yaml"), c, 1);
    } catch (const ScheduleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("  - partition: [[n1@h], [n2@h, n3@h]]\n    for: 1s\n").rfind("a.yaml:3: same_agent: ", 0) == 0);
  CHECK(error_of("  - one_way: {from: n1@h, to: n2@h}\n    for: 1s\n").rfind("a.yaml:3: own_host: ", 0) == 0);
}

TEST_CASE("a node the cluster does not have is an error at its line") {
  auto s = parse_schedule("agents: [ticksplit@h]\nsteps:\n  - isolate: ghost@h\n    for: 1s\n", "u.yaml");
  try {
    make_plan(s, cluster(3), 1);
    FAIL("no error");
  } catch (const ScheduleError& e) {
    CHECK(std::string(e.what()).rfind("u.yaml:3: unknown node ghost@h", 0) == 0);
  }
}

TEST_CASE("arming: the start lead the Erlang library uses too") {
  for (const auto& r : golden_rows("arming.txt"))
    if (r.at(0) == "start_lead_ms") CHECK(std::to_string(start_lead_ms) == r.at(1));
}

TEST_CASE("call-timeout classes: drawn against call_timeout, refused where they would reach the window") {
  auto s = parse_schedule(R"(agents: [ticksplit@h]
call_timeout: 1s
steps:
  - isolate: n3@h
    for: above_call_timeout
  - partition: random_halves
    for: below_call_timeout
  - pause: n1@h
    for: around_call_timeout
    call_timeout: 2s
  - wait: around_call_timeout
)",
                          "c.yaml");
  auto c = cluster(3);
  c.net_ticktime_ms = 20000;  // window 15-25 s: every class of 1 s and 2 s fits below it
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const auto p = make_plan(s, c, seed);
    REQUIRE(p.size() == 4);
    const auto& above = std::get<PlannedFault>(p[0]);
    CHECK(above.duration_ms >= 1200);
    CHECK(above.duration_ms <= 1600);
    REQUIRE(above.call_class);
    CHECK(*above.call_class == PlannedCallClass{CallClass::above_call_timeout, 1000});
    CHECK(above.window_class == WindowClass::below_window);
    const auto& below = std::get<PlannedFault>(p[1]);
    CHECK(below.duration_ms >= 100);
    CHECK(below.duration_ms <= 450);
    const auto& around = std::get<PlannedFault>(p[2]);
    CHECK(around.duration_ms >= 1000);
    CHECK(around.duration_ms <= 2000);
    CHECK(around.call_class->call_timeout_ms == 2000);
    CHECK(std::get<PlannedWait>(p[3]).ms >= 500);
    CHECK(std::get<PlannedWait>(p[3]).ms <= 1000);
  }
  c.net_ticktime_ms = 2000;  // below_window ends at 675 ms: 1.6 s drops could take nodes down
  try {
    make_plan(s, c, 1);
    FAIL("planned a 1.6 s drop under a 1.5 s window");
  } catch (const ScheduleError& e) {
    CHECK(std::string(e.what()) ==
          "c.yaml:4: above_call_timeout with call_timeout 1000 ms draws drops up to 1600 ms, but with this "
          "net_ticktime a drop longer than 675 ms (below_window's longest) may take nodes down: raise net_ticktime or "
          "lower call_timeout");
  }
}

TEST_CASE("a stress: one node (random_node drawn from the seed), its hogs, nothing cut, every link up") {
  auto s = parse_schedule(R"(agents: [ticksplit@h]
steps:
  - stress: random_node
    for: in_window
  - stress: n2@h
    for: 1s
    hogs: 16
)",
                          "p.yaml");
  const auto c = cluster(3);
  const auto a = make_plan(s, c, 7);
  REQUIRE(a.size() == 2);
  const auto& drawn = std::get<PlannedFault>(a[0]);
  CHECK(drawn.shape == "stress");
  REQUIRE(drawn.stressed.has_value());
  CHECK(std::find(c.nodes.begin(), c.nodes.end(), *drawn.stressed) != c.nodes.end());
  CHECK(drawn.hogs == 2);
  CHECK(drawn.window_class == WindowClass::in_window);
  CHECK(*std::get<PlannedFault>(make_plan(s, c, 7)[0]).stressed == *drawn.stressed);  // same seed, same node
  const auto& named = std::get<PlannedFault>(a[1]);
  CHECK(*named.stressed == "n2@h");
  CHECK(named.hogs == 16);
  CHECK(named.drops.empty());
  CHECK(named.grudge.empty());
  CHECK_FALSE(named.paused.has_value());
  CHECK(named.topology.cut.empty());
  CHECK(named.topology.up.size() == 3);
}
