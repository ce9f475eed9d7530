// kill_process in the controller: the schedule step, the plan, the runner against scripted
// agents (fake_agents.hpp), the history's fault lines and the summary.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/node_name.hpp"
#include "controller/plan/plan.hpp"
#include "controller/report/summary.hpp"
#include "controller/run/runner.hpp"
#include "controller/schedule/schedule.hpp"
#include "fake_agents.hpp"

using namespace ticksplit;
using namespace ticksplit::ctl;
using nlohmann::json;

namespace {

const std::vector<std::string> kNodes{"n1@198.51.100.11", "n2@198.51.100.12", "n3@198.51.100.13"};
const std::string kHead = "agents: [ticksplit@198.51.100.11]\nsteps:\n";

ClusterInfo cluster() {
  ClusterInfo c;
  c.nodes = kNodes;
  for (const auto& n : kNodes) c.agent_of[n] = *default_agent_of(n);
  c.net_ticktime_ms = 2000;
  c.tick_intensity = 4;
  return c;
}

std::vector<PlannedStep> plan(const std::string& steps) {
  return make_plan(parse_schedule(kHead + steps, "k.yaml"), cluster(), 1);
}

std::string error_of(const std::string& steps) {
  try {
    plan(steps);
  } catch (const ScheduleError& e) {
    return e.what();
  }
  return "";
}

std::vector<json> run(test::FakeAgents& agents, const std::vector<PlannedStep>& p, RunResult& result) {
  char path[] = "/tmp/ctl_kill_process_test_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    History h(path);
    result = run_plan(agents, cluster(), p, 1, h, -1);
  }
  std::vector<json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  std::remove(path);
  return lines;
}

json first(const std::vector<json>& lines, const std::string& kind) {
  for (const auto& l : lines)
    if (l.at("kind") == kind) return l;
  FAIL("no " << kind);
  return {};
}

}  // namespace

TEST_CASE("schedule: kill_process by name or supervisor, restart_within in the duration grammar") {
  const auto steps = parse_schedule(kHead +
                                        "  - kill_process: {node: n2@198.51.100.12, name: ts_worker}\n"
                                        "  - kill_process: {node: random_node, supervisor: ts_sup}\n"
                                        "    restart_within: 250ms\n",
                                    "k.yaml")
                         .steps;
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].kind == Step::Kind::kill_process);
  CHECK(steps[0].node == "n2@198.51.100.12");
  CHECK(steps[0].target == proto::ProcessTarget{proto::ProcessTarget::Kind::name, "ts_worker"});
  CHECK(steps[0].duration.text == "1s");  // the agent's default
  CHECK(steps[1].node == "random_node");
  CHECK(steps[1].target == proto::ProcessTarget{proto::ProcessTarget::Kind::child_of, "ts_sup"});
  CHECK(steps[1].duration.text == "250ms");
}

TEST_CASE("schedule: bad kill_process steps name their line") {
  CHECK(error_of("  - kill_process: n2@198.51.100.12\n").rfind("k.yaml:3: kill_process must be", 0) == 0);
  CHECK(error_of("  - kill_process: {name: w}\n").rfind("k.yaml:3: kill_process needs 'node'", 0) == 0);
  CHECK(error_of("  - kill_process: {node: n2@198.51.100.12}\n").find("exactly one of 'name' and 'supervisor'") !=
        std::string::npos);
  CHECK(error_of("  - kill_process: {node: n2@198.51.100.12, name: w, supervisor: s}\n").find("exactly one of") !=
        std::string::npos);
  CHECK(error_of("  - kill_process: {node: n2@198.51.100.12, name: w, pid: 1}\n").find("unknown key 'pid'") !=
        std::string::npos);
  CHECK(error_of("  - kill_process: {node: n2@198.51.100.12, name: w}\n    for: 1s\n").find("unknown key 'for'") !=
        std::string::npos);
  CHECK(error_of("  - kill_process: {node: n2@198.51.100.12, name: w}\n    restart_within: in_window\n")
            .find("not a window class") != std::string::npos);
  CHECK(error_of("  - kill_process: {node: n2@198.51.100.12, name: w}\n    restart_within: 61s\n")
            .find("restart_within must be from 10ms to 60s") != std::string::npos);
  CHECK(error_of("  - kill_process: {node: n9@198.51.100.19, name: w}\n").find("unknown node n9@198.51.100.19") !=
        std::string::npos);
}

TEST_CASE("plan: a kill_process cuts nothing and says what its node's watcher does") {
  const auto p = plan("  - kill_process: {node: n2@198.51.100.12, supervisor: ts_sup}\n    restart_within: 500ms\n");
  const auto& f = std::get<PlannedFault>(p.at(0));
  CHECK(f.shape == "kill_process");
  CHECK(f.killed_on == "n2@198.51.100.12");
  CHECK(f.duration_ms == 500);
  CHECK(f.drops.empty());
  CHECK(f.topology.cut.empty());
  const auto text = describe_plan(p, cluster(), 1);
  CHECK(text.find("ticksplit@198.51.100.12 has n2@198.51.100.12's watcher kill (exit(Pid, kill)) a random child of "
                  "the supervisor ts_sup at the window's start, and watch 500 ms for its restart") !=
        std::string::npos);
  CHECK(text.find("none cut") != std::string::npos);
}

TEST_CASE("runner: a kill_process asks the node's agent; the history and summary have what was killed and restarted") {
  test::FakeAgents agents;
  const auto t0 = agents.now;
  RunResult result;
  const auto lines = run(agents, plan("  - kill_process: {node: n2@198.51.100.12, supervisor: ts_sup}\n"), result);
  CHECK(result.exit_code == 0);
  CHECK(agents.requests<proto::PartitionRequest>().empty());
  const auto kills = agents.requests<proto::KillProcessRequest>();
  REQUIRE(kills.size() == 1);
  CHECK(kills[0].first == "ticksplit@198.51.100.12");
  CHECK(kills[0].second.node == "n2@198.51.100.12");
  CHECK(kills[0].second.target == proto::ProcessTarget{proto::ProcessTarget::Kind::child_of, "ts_sup"});
  CHECK(kills[0].second.restart_window_ms == 1000);
  CHECK(kills[0].second.start_at_us == t0 + start_lead_ms * 1000);
  const auto start = first(lines, "fault_start");
  CHECK(start.at("shape") == "kill_process");
  CHECK(start.at("node") == "n2@198.51.100.12");
  CHECK(start.at("target") == "child_of");
  CHECK(start.at("supervisor") == "ts_sup");
  CHECK(start.at("restart_window_ms") == 1000);
  CHECK(start.at("links_cut").empty());
  const auto ev = first(lines, "fault_end").at("agents").at("ticksplit@198.51.100.12");
  CHECK(ev.at("pid") == "<0.90.0>");
  CHECK(ev.at("child_id") == "worker");
  CHECK(ev.at("kill_late_us") == 400);
  CHECK(ev.at("restarted") == true);
  CHECK(ev.at("new_pid") == "<0.95.0>");
  CHECK(ev.at("restart_after_us") == 2000);
  CHECK_FALSE(ev.contains("error"));
  REQUIRE(result.faults.size() == 1);
  REQUIRE(result.faults[0].killed);
  const auto table = summary(result.faults, cluster());
  CHECK(table.find("killed <0.90.0> (child worker of ts_sup) on n2@198.51.100.12, 0.40 ms after the planned instant; "
                   "restarted after 2.00 ms as <0.95.0>") != std::string::npos);
  CHECK(agents.requests<proto::HealRequest>().empty());
}

TEST_CASE("runner: a kill that killed nothing says why; one never reported fails the run") {
  test::FakeAgents agents;
  RunResult result;
  const auto lines = run(agents, plan("  - kill_process: {node: n1@198.51.100.11, name: nobody}\n"), result);
  CHECK(result.exit_code == 0);  // it landed: what the node found is evidence, not a failure
  const auto ev = first(lines, "fault_end").at("agents").at("ticksplit@198.51.100.11");
  CHECK(ev.at("error") == "no process is registered as nobody");
  CHECK(ev.at("pid").is_null());
  CHECK(summary(result.faults, cluster()).find("not killed: no process is registered as nobody") != std::string::npos);

  test::FakeAgents quiet;
  quiet.silent = {"ticksplit@198.51.100.11"};
  RunResult silent_result;
  run(quiet, plan("  - kill_process: {node: n1@198.51.100.11, name: w}\n    restart_within: 100ms\n"), silent_result);
  CHECK(silent_result.exit_code == 1);
}
