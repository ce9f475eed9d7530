// status and heal: the agents named on the command line (or a schedule's), connected one by
// one so an unreachable agent does not hide the others, then asked together.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "controller/cli/commands.hpp"
#include "controller/cli/options.hpp"
#include "controller/report/status_text.hpp"
#include "controller/run/status_heal.hpp"

namespace ticksplit::ctl::cli {

namespace {

std::vector<std::string> agents_of(const po::variables_map& vm, std::optional<Schedule>& s) {
  std::vector<std::string> agents;
  if (vm.count("agent")) agents = vm["agent"].as<std::vector<std::string>>();
  if (vm.count("schedule")) {
    s = load_schedule(vm["schedule"].as<std::string>());
    agents.insert(agents.end(), s->agents.begin(), s->agents.end());
  }
  if (agents.empty()) throw Usage("name the agents with --agent NODE (repeatable) or --schedule FILE");
  std::vector<std::string> once;  // each agent asked once, in the order first named
  for (const auto& a : agents)
    if (std::find(once.begin(), once.end(), a) == once.end()) once.push_back(a);
  return once;
}

}  // namespace

int status_or_heal(const std::string& cmd, const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("agent", po::value<std::vector<std::string>>(), "an agent's node name (repeatable)")(
      "schedule", po::value<std::string>(), "take the agents from this schedule");
  add_connection_options(d);
  auto vm = parse(cmd, d, nullptr, args);
  std::optional<Schedule> schedule;
  const auto agents = agents_of(vm, schedule);
  auto client = client_for(cmd, vm, schedule);
  int rc = 0;
  std::vector<std::string> reached;
  for (const auto& a : agents) {
    if (auto s = client->connect({a}, connect_timeout_ms); !s) {
      std::fprintf(stderr, "ticksplit-ctl: %s\n", s.error().message.c_str());
      rc = 1;
      continue;
    }
    reached.push_back(a);
  }
  for (const auto& r : cmd == "status" ? ask_status(*client, reached) : heal_all(*client, reached)) {
    if (r.error) {
      std::fprintf(stderr, "ticksplit-ctl: %s: %s\n", r.agent.c_str(), r.error->c_str());
      rc = 1;
      continue;
    }
    std::cout << describe_reply(r);
  }
  return rc;
}

}  // namespace ticksplit::ctl::cli
