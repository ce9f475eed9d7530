// plan and run: schedule → cluster (the agents', or the schedule's own for an offline plan) →
// plan → (run) arm, follow, heal, with the history and the summary.
#include <cstdio>
#include <iostream>

#include "common/clock.hpp"
#include "common/signal_fd.hpp"
#include "controller/cli/commands.hpp"
#include "controller/cli/options.hpp"
#include "controller/history/history.hpp"
#include "controller/report/summary.hpp"
#include "controller/run/discover.hpp"
#include "controller/run/runner.hpp"

namespace ticksplit::ctl::cli {

namespace {

std::uint64_t seed_of(const po::variables_map& vm, const Schedule& s) {
  if (vm.count("seed")) return vm["seed"].as<std::uint64_t>();
  if (s.seed) return *s.seed;
  return static_cast<std::uint64_t>(ticksplit::clock::unix_us());
}

}  // namespace

int plan_or_run(const std::string& cmd, const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("schedule", po::value<std::string>(), "the schedule (YAML)")(
      "seed", po::value<std::uint64_t>(), "seed for random shapes and window classes (overrides the schedule's)");
  if (cmd == "run")
    d.add_options()("history", po::value<std::string>(), "history file (default ticksplit-history.jsonl)")(
        "report", po::value<std::string>(), "write the HTML report of the run here when it ends (also after Ctrl-C)");
  add_connection_options(d);
  po::positional_options_description pos;
  pos.add("schedule", 1);
  auto vm = parse(cmd, d, &pos, args);
  if (!vm.count("schedule")) throw Usage(cmd + ": a schedule file is required");
  const auto schedule = load_schedule(vm["schedule"].as<std::string>());  // exit 2 before anything is touched
  const auto seed = seed_of(vm, schedule);

  std::unique_ptr<CnodeAgents> client;
  ClusterInfo cluster;
  if (cmd == "plan" && !schedule.nodes.empty()) {
    auto c = cluster_of_schedule(schedule);
    if (!c) {
      std::fprintf(stderr, "ticksplit-ctl: %s\n", c.error().message.c_str());
      return 2;
    }
    cluster = *c;
  } else {
    client = client_for(cmd, vm, schedule);
    if (auto s = client->connect(schedule.agents, connect_timeout_ms); !s) {
      std::fprintf(stderr, "ticksplit-ctl: %s\n", s.error().message.c_str());
      return 1;
    }
    auto c = discover(*client, schedule.agents);
    if (!c) {
      std::fprintf(stderr, "ticksplit-ctl: %s\n", c.error().message.c_str());
      return 1;
    }
    cluster = *c;
  }
  const auto plan = make_plan(schedule, cluster, seed);
  if (cmd == "plan") {
    std::cout << describe_plan(plan, cluster, seed);
    return 0;
  }
  // Without the signalfd a Ctrl-C would kill the run with faults still armed, unhealed and
  // unrecorded: no run starts without it.
  auto signals = termination_signal_fd();
  History history(vm.count("history") ? vm["history"].as<std::string>() : "ticksplit-history.jsonl");
  std::cout << describe_plan(plan, cluster, seed) << std::flush;
  auto result = run_plan(*client, cluster, plan, seed, history, signals.get());
  std::cout << "\n" << summary(result.faults, cluster) << "\nhistory: " << history.path() << "\n" << std::flush;
  if (vm.count("report")) write_report({history.path()}, vm["report"].as<std::string>(), "html");
  return result.exit_code;
}

}  // namespace ticksplit::ctl::cli
