// The runner against scripted agents (fake_agents.hpp): arming, following the events into the
// history, healing by the fault's own ids when something goes wrong, cascades, exit codes.
#include <doctest/doctest.h>

#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

ClusterInfo cluster() {
  ClusterInfo c;
  c.nodes = kNodes;
  for (const auto& n : kNodes) c.agent_of[n] = *default_agent_of(n);
  c.net_ticktime_ms = 2000;
  c.tick_intensity = 4;
  return c;
}

std::vector<PlannedStep> plan(const std::string& steps) {
  return make_plan(parse_schedule("agents: [ticksplit@198.51.100.11]\nsteps:\n" + steps, "t.yaml"), cluster(), 1);
}

struct Run {
  RunResult result;
  std::vector<json> history;
  [[nodiscard]] std::vector<json> of(const std::string& kind) const {
    std::vector<json> out;
    for (const auto& l : history)
      if (l.at("kind") == kind) out.push_back(l);
    return out;
  }
};

Run run(test::FakeAgents& agents, const std::vector<PlannedStep>& p, int signal_fd = -1) {
  char path[] = "/tmp/ctl_runner_test_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  Run r;
  {
    History h(path);
    r.result = run_plan(agents, cluster(), p, 1, h, signal_fd);
  }
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) r.history.push_back(json::parse(line));
  std::remove(path);
  return r;
}

}  // namespace

TEST_CASE("runner: one request per agent with one start; the history has the fault and its evidence") {
  test::FakeAgents agents;
  const auto t0 = agents.now;
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 1s\n"));
  CHECK(r.result.exit_code == 0);
  const auto parts = agents.requests<proto::PartitionRequest>();
  REQUIRE(parts.size() == 3);  // n1's agent drops n2 and n3; theirs drop n1
  for (const auto& [agent, p] : parts) {
    CHECK(p.start_at_us == t0 + start_lead_ms * 1000);  // one start, the lead ahead
    CHECK(p.duration_ms == 1000);
    CHECK(p.peers.size() == (agent == "ticksplit@198.51.100.11" ? 2u : 1u));
  }
  CHECK(agents.requests<proto::SubscribeRequest>().size() == 3);
  REQUIRE(r.of("fault_start").size() == 1);
  const auto start = r.of("fault_start")[0];
  CHECK(start.at("window_class") == "below_window");
  CHECK(start.at("drop_sets").at("n1@198.51.100.11").size() == 2);
  REQUIRE(r.of("fault_end").size() == 1);
  const auto end = r.of("fault_end")[0];
  CHECK(end.at("dropped_packets") == 6);  // 2 from each of the 3 agents
  CHECK(end.at("effective_outage_us") == 1'200'000);
  CHECK(end.at("agents").size() == 3);
  CHECK(r.of("run_end").size() == 1);
  CHECK(agents.requests<proto::HealRequest>().empty());  // nothing went wrong: nothing healed
  REQUIRE(r.result.faults.size() == 1);
  CHECK(r.result.faults[0].dropped_packets == 6);
}

TEST_CASE("runner: a lossy fault asks every agent for its loss; the history and summary give the rate seen") {
  test::FakeAgents agents;
  const auto p = plan("  - isolate: n1@198.51.100.11\n    for: 1s\n    loss: 40%\n");
  const auto r = run(agents, p);
  CHECK(r.result.exit_code == 0);
  const auto parts = agents.requests<proto::PartitionRequest>();
  REQUIRE(parts.size() == 3);
  for (const auto& [agent, req] : parts) CHECK(req.loss == proto::Loss{400'000});
  CHECK(r.of("fault_start").at(0).at("loss") == 0.4);
  const auto end = r.of("fault_end").at(0);
  CHECK(end.at("dropped_packets") == 6);
  CHECK(end.at("passed_packets") == 9);
  CHECK(end.at("loss_rate") == 0.4);
  CHECK(summary(r.result.faults, cluster()).find("40% (40.0% seen)") != std::string::npos);
  CHECK(describe_plan(p, cluster(), 1).find("(1s, below_window), loss 40%") != std::string::npos);
  CHECK(describe_plan(p, cluster(), 1).find("2 of 3 lossy (40% of each packet dropped, not cut)") != std::string::npos);

  test::FakeAgents plain;
  const auto total = run(plain, plan("  - isolate: n1@198.51.100.11\n    for: 1s\n"));
  for (const auto& [agent, req] : plain.requests<proto::PartitionRequest>()) CHECK(req.loss.total());
  CHECK(total.of("fault_start").at(0).at("loss") == 1.0);
  CHECK(total.of("fault_end").at(0).at("passed_packets") == 0);
  CHECK(total.of("fault_end").at(0).at("loss_rate") == 1.0);
}

TEST_CASE("runner: a pause asks the node's agent alone; the history has its stop, its resume, its links") {
  test::FakeAgents agents;
  const auto t0 = agents.now;
  const auto p = plan("  - pause: n2@198.51.100.12\n    for: 3s\n");
  const auto r = run(agents, p);
  CHECK(r.result.exit_code == 0);
  CHECK(agents.requests<proto::PartitionRequest>().empty());
  const auto pauses = agents.requests<proto::PauseRequest>();
  REQUIRE(pauses.size() == 1);
  CHECK(pauses[0].first == "ticksplit@198.51.100.12");
  CHECK(pauses[0].second.node == "n2@198.51.100.12");
  CHECK(pauses[0].second.duration_ms == 3000);
  CHECK(pauses[0].second.start_at_us == t0 + start_lead_ms * 1000);
  const auto start = r.of("fault_start").at(0);
  CHECK(start.at("shape") == "pause");
  CHECK(start.at("node") == "n2@198.51.100.12");
  CHECK(start.at("window_class") == "above_window");
  CHECK(start.at("links_cut").size() == 2);  // every link of the stopped node
  const auto end = r.of("fault_end").at(0);
  const auto& ev = end.at("agents").at("ticksplit@198.51.100.12");
  CHECK(ev.at("resume_late_us") == 300);
  CHECK(ev.at("os_pid") == 4242);
  CHECK(end.at("effective_outage_us") == 3'000'100);  // stopped 200 µs late, resumed 300 µs late
  CHECK(agents.requests<proto::HealRequest>().empty());
  const auto text = describe_plan(p, cluster(), 1);
  CHECK(text.find("ticksplit@198.51.100.12 stops n2@198.51.100.12's OS process (SIGSTOP)") != std::string::npos);
  CHECK(text.find("2 of 3 silent") != std::string::npos);
  const auto table = summary(r.result.faults, cluster());
  CHECK(table.find("above_window  -     3.000 s") != std::string::npos);  // no loss column: nothing dropped
  CHECK(table.find("n1@198.51.100.11 - n2@198.51.100.12  silent (an end stopped)") != std::string::npos);
}

TEST_CASE("runner: a kill_node asks the node's agent alone; the history has the kill, the restart, the up time") {
  test::FakeAgents agents;
  const auto t0 = agents.now;
  const auto p = plan("  - kill_node: n2@198.51.100.12\n    restart_after: 5s\n");
  const auto r = run(agents, p);
  CHECK(r.result.exit_code == 0);
  CHECK(agents.requests<proto::PartitionRequest>().empty());
  const auto kills = agents.requests<proto::KillNodeRequest>();
  REQUIRE(kills.size() == 1);
  CHECK(kills[0].first == "ticksplit@198.51.100.12");
  CHECK(kills[0].second.node == "n2@198.51.100.12");
  CHECK(kills[0].second.restart_after_ms == 5000);
  const auto start_us = t0 + start_lead_ms * 1000;
  CHECK(kills[0].second.start_at_us == start_us);
  const auto start = r.of("fault_start").at(0);
  CHECK(start.at("shape") == "kill_node");
  CHECK(start.at("node") == "n2@198.51.100.12");
  CHECK(start.at("restart_after_ms") == 5000);
  const auto end = r.of("fault_end").at(0);
  const auto& ev = end.at("agents").at("ticksplit@198.51.100.12");
  CHECK(ev.at("down_us") == start_us + 300);
  CHECK(ev.at("exited_us") == start_us + 10'300);
  CHECK(ev.at("started_us") == start_us + 5'000'400);
  CHECK(ev.at("restart_late_us") == 400);
  CHECK(ev.at("up_us") == start_us + 7'000'400);  // the agent joined the new node
  CHECK(ev.at("start_pid") == 5151);
  CHECK(end.at("effective_outage_us") == 7'000'100);  // from the kill to the node joined again
  const auto text = describe_plan(p, cluster(), 1);
  CHECK(text.find("ticksplit@198.51.100.12 kills n2@198.51.100.12's OS process (SIGKILL) at the start; its guard "
                  "starts it again 5000 ms later") != std::string::npos);
  CHECK(summary(r.result.faults, cluster()).find("closed (an end killed)") != std::string::npos);

  test::FakeAgents sup;
  const auto q = plan("  - kill_node: random_node\n");
  const auto s = run(sup, q);
  CHECK(s.result.exit_code == 0);
  REQUIRE(sup.requests<proto::KillNodeRequest>().size() == 1);
  CHECK_FALSE(sup.requests<proto::KillNodeRequest>()[0].second.restart_after_ms.has_value());
  CHECK(s.of("fault_start").at(0).at("restart_after_ms").is_null());
  CHECK(s.of("fault_end").at(0).at("agents").begin()->at("up_us").is_null());
  CHECK(describe_plan(q, cluster(), 1).find("the host's supervisor starts it again") != std::string::npos);
}

TEST_CASE("runner: a stress asks the node's agent alone with its hogs; nothing is cut; the node's figures are kept") {
  test::FakeAgents agents;
  const auto t0 = agents.now;
  const auto p = plan("  - stress: n2@198.51.100.12\n    for: 2s\n    hogs: 3\n");
  const auto r = run(agents, p);
  CHECK(r.result.exit_code == 0);
  CHECK(agents.requests<proto::PartitionRequest>().empty());
  const auto stresses = agents.requests<proto::StressRequest>();
  REQUIRE(stresses.size() == 1);
  CHECK(stresses[0].first == "ticksplit@198.51.100.12");
  CHECK(stresses[0].second.node == "n2@198.51.100.12");
  CHECK(stresses[0].second.hogs == 3);
  CHECK(stresses[0].second.duration_ms == 2000);
  CHECK(stresses[0].second.start_at_us == t0 + start_lead_ms * 1000);
  const auto start = r.of("fault_start").at(0);
  CHECK(start.at("shape") == "stress");
  CHECK(start.at("node") == "n2@198.51.100.12");
  CHECK(start.at("hogs") == 3);
  CHECK(start.at("links_cut").empty());
  CHECK(start.at("links_up").size() == 3);
  const auto end = r.of("fault_end").at(0);
  const auto& ev = end.at("agents").at("ticksplit@198.51.100.12");
  CHECK(ev.at("utilisation_during") == 0.995);
  CHECK(ev.at("end_late_us") == 400);
  CHECK(ev.at("rtt_during_ms").at("max_ms") == 24.5);
  CHECK(ev.at("processes") == 6);
  CHECK(ev.at("normal_late_max_ms") == 2000.0);
  const auto text = describe_plan(p, cluster(), 1);
  CHECK(text.find("has n2@198.51.100.12 run 3 max-priority busy process(es) per online scheduler") != std::string::npos);
  CHECK(text.find("none cut (ticks from and to n2@198.51.100.12 may run late)") != std::string::npos);
  const auto table = summary(r.result.faults, cluster());
  CHECK(table.find("stress: scheduler utilisation 1% before, 100% during, 2% after; probe round trips during the"
                   " window: median 16.0 ms, max 24.5 ms") != std::string::npos);
  INFO(table);
  // nothing dropped, no link cut, none went down
  CHECK(table.find("1  stress  2s = 2000ms  in_window  -     n/a     0        0          0 ") != std::string::npos);
}

TEST_CASE("runner: a refusal heals the parts already armed by their ids, never with a bare heal; exit 1") {
  test::FakeAgents agents;
  agents.refuse = {"ticksplit@198.51.100.13"};
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 1s\n  - wait: 1s\n"));
  CHECK(r.result.exit_code == 1);
  const auto heals = agents.requests<proto::HealRequest>();
  REQUIRE(heals.size() == 2);  // not the agent that refused: the id there may be another owner's
  for (const auto& [agent, h] : heals) {
    CHECK(agent != "ticksplit@198.51.100.13");
    CHECK(h.id.rfind(r.of("fault_start")[0].at("fault").get<std::string>(), 0) == 0);
  }
  CHECK(agents.requests<proto::HealAllRequest>().empty());
  REQUIRE(r.of("fault_end").size() == 1);
  CHECK(r.of("fault_end")[0].at("landed") == false);
  CHECK(r.of("run_end")[0].at("error").get<std::string>().find("did not land") != std::string::npos);
}

TEST_CASE("runner: nodedowns between nodes that were not cut are cascades") {
  test::FakeAgents agents;
  const auto t0 = agents.now;
  agents.nodedown(t0 + 600'000, "ticksplit@198.51.100.12", "n2@198.51.100.12", "n1@198.51.100.11");  // cut
  agents.nodedown(t0 + 700'000, "ticksplit@198.51.100.12", "n2@198.51.100.12", "n3@198.51.100.13");  // not cut
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 2s\n"));
  CHECK(r.result.exit_code == 0);
  REQUIRE(r.result.faults.size() == 1);
  const auto& downs = r.result.faults[0].nodedowns;
  REQUIRE(downs.size() == 2);
  CHECK_FALSE(downs[0].cascade);
  CHECK(downs[1].cascade);
  CHECK(downs[0].after_us == 600'000 - start_lead_ms * 1000);
  CHECK(r.of("nodedown").size() == 2);
}

TEST_CASE("runner: an agent that never reports the heal stops the run, naming it; exit 1") {
  test::FakeAgents agents;
  agents.silent = {"ticksplit@198.51.100.12"};
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 1s\n  - isolate: n2@198.51.100.12\n    for: 1s\n"));
  CHECK(r.result.exit_code == 1);
  CHECK(r.of("fault_start").size() == 1);  // the second fault is not tried
  CHECK(r.of("fault_end")[0].at("stopped").get<std::string>().find("ticksplit@198.51.100.12") != std::string::npos);
  CHECK(agents.requests<proto::HealRequest>().size() == 3);  // the fault's parts, by id
}

TEST_CASE("runner: a lost agent stops the run and heals the current fault; exit 1") {
  test::FakeAgents agents;
  agents.lose_at["ticksplit@198.51.100.13"] = agents.now + 500'000;
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 2s\n"));
  CHECK(r.result.exit_code == 1);
  CHECK(r.of("run_end")[0].at("error").get<std::string>().find("lost the connection to agent ticksplit@198.51.100.13") !=
        std::string::npos);
  CHECK(agents.requests<proto::HealRequest>().size() == 3);
  CHECK(r.of("fault_end").size() == 1);
}

TEST_CASE("runner: SIGINT during a fault heals it and exits 130 with the history closed") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  signalfd_siginfo si{};
  si.ssi_signo = SIGINT;  // what the controller's signalfd would read
  REQUIRE(::write(pipe_fds[1], &si, sizeof si) == sizeof si);
  test::FakeAgents agents;
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 5s\n"), pipe_fds[0]);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  CHECK(r.result.exit_code == 130);
  CHECK(agents.requests<proto::HealRequest>().size() == 3);
  CHECK(r.of("fault_end").size() == 1);
  CHECK(r.of("run_end")[0].at("error").get<std::string>().find("interrupted") != std::string::npos);
}

TEST_CASE("runner: node events belong to the last fault started: hidden peers apart, late nodedowns, reconnections") {
  test::FakeAgents agents;
  const auto start = agents.now + start_lead_ms * 1000, end = start + 2'000'000;
  const std::string a2 = "ticksplit@198.51.100.12", a3 = "ticksplit@198.51.100.13";
  agents.nodedown(start + 1'000'000, a2, "n2@198.51.100.12", "ctl@198.51.100.1", "hidden");
  agents.nodedown(start + 1'800'000, a2, "n2@198.51.100.12", "n1@198.51.100.11");
  agents.nodedown(end + 140'000, a3, "n3@198.51.100.13", "n1@198.51.100.11");  // after the heal
  agents.nodeup(end + 150'000, a2, "n2@198.51.100.12", "n1@198.51.100.11");
  agents.nodeup(end + 2'500'000, a3, "n3@198.51.100.13", "n1@198.51.100.11");  // during the wait
  agents.node_lost(end + 2'600'000, a3, "n3@198.51.100.13");
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 2s\n  - wait: 3s\n"));
  REQUIRE(r.result.exit_code == 0);
  REQUIRE(r.result.faults.size() == 1);
  const auto& f = r.result.faults[0];

  REQUIRE(f.nodedowns.size() == 3);
  CHECK(f.nodedowns[0].hidden);
  CHECK_FALSE(f.nodedowns[0].cascade);  // a hidden peer's nodedown is never a cascade
  CHECK_FALSE(f.nodedowns[1].hidden);
  CHECK_FALSE(f.nodedowns[1].after_window);
  CHECK(f.nodedowns[2].after_window);
  REQUIRE(f.nodeups.size() == 2);
  CHECK(f.nodeups[0].after_heal_us == 150'000);
  CHECK(f.nodeups[1].after_heal_us == 2'500'000);

  const auto links = link_reports(f);
  REQUIRE(links.size() == 2);  // the two cut links; the hidden peer is not a link of the mesh
  CHECK(links[0].link == Link{"n1@198.51.100.11", "n2@198.51.100.12"});
  CHECK(links[0].first_down->after_us == 1'800'000);
  CHECK(links[0].up_after_heal_us == 150'000);
  CHECK(links[1].first_down->after_window);
  CHECK(links[1].up_after_heal_us == 2'500'000);
  const auto text = summary(r.result.faults, cluster());
  const auto line_of = [&text](const std::string& start) {
    const auto at = text.find(start);
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
  };
  const auto late = line_of("  n1@198.51.100.11 - n3@198.51.100.13");
  CHECK(late.find("down at 2.140 s (n3@198.51.100.13 saw net_tick_timeout) after the window closed") != std::string::npos);
  CHECK(late.find("up again 2.500 s after the window closed") != std::string::npos);
  CHECK(line_of("  n1@198.51.100.11 - n2@198.51.100.12").find("after the window closed  ") == std::string::npos);
  CHECK(line_of("  n2@198.51.100.12 <- ctl@198.51.100.1").find("hidden peer  down at 1.000 s") != std::string::npos);

  // The history keeps node_type, the agents' own links, and the fault's effective topology.
  const auto downs = r.of("nodedown");
  REQUIRE(downs.size() == 3);
  CHECK(downs[0].at("node_type") == "hidden");
  REQUIRE(r.of("node_lost").size() == 1);
  CHECK(r.of("node_lost")[0].at("node") == "n3@198.51.100.13");
  const auto fs = r.of("fault_start").at(0);
  CHECK(fs.at("effective_groups") == json::parse(R"([["n1@198.51.100.11"],["n2@198.51.100.12","n3@198.51.100.13"]])"));
  CHECK(fs.at("links_cut") ==
        json::parse(R"([["n1@198.51.100.11","n2@198.51.100.12"],["n1@198.51.100.11","n3@198.51.100.13"]])"));
  CHECK(fs.at("links_one_way").empty());
  CHECK_FALSE(fs.contains("warnings"));
}

TEST_CASE("summary: columns as wide as their content") {
  test::FakeAgents agents;
  const auto r = run(agents, plan("  - isolate: n1@198.51.100.11\n    for: 1s\n"));
  const auto text = summary(r.result.faults, cluster());
  std::vector<std::string> lines;
  std::string line;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  REQUIRE(lines.size() >= 3);
  // The header and the row: every column starts at the same place in both.
  const auto col = [](const std::string& l, const std::string& what) { return l.find(what); };
  CHECK(col(lines[1], "class") == col(lines[2], "below_window"));
  CHECK(col(lines[1], "outage") == col(lines[2], "1.200 s"));
  CHECK(lines[2].find("1s = 1000ms  ") != std::string::npos);  // never run together with the next column
}
