// ticksplit-ctl: runs partition schedules against ticksplit agents (README.md, "ticksplit-ctl").
//   run SCHEDULE [--history FILE] [--seed N]   plan SCHEDULE [--seed N]
//   status [--agent NODE ... | --schedule FILE]  heal [--agent NODE ... | --schedule FILE]
//   check HISTORY... --model MODEL [--json] [--max-ms N] [--max-mb N] [--independent] [--window-ms N]
// Every subcommand that talks to agents takes --cookie-file and --name. Exit: 0 ran and every
// fault landed; 1 a fault did not land or an agent failed; 2 usage or schedule error;
// 128 + signal after SIGINT/SIGTERM (every agent healed first). check (docs/check.md) talks
// to nothing: 0 valid, 1 invalid, 3 unknown, 2 usage or a malformed history.
#include <sys/signalfd.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/cookie.hpp"
#include "common/net/resolve.hpp"
#include "common/proto/reply.hpp"
#include "controller/check/check.hpp"
#include "controller/check/read.hpp"
#include "controller/check/report.hpp"
#include "controller/report/summary.hpp"
#include "controller/run/cnode_agents.hpp"
#include "controller/run/discover.hpp"
#include "controller/run/runner.hpp"
#include "controller/schedule/schedule.hpp"
#include "common/node_name.hpp"

namespace po = boost::program_options;
namespace chk = ticksplit::check;
using namespace ticksplit;
using namespace ticksplit::ctl;

namespace {

constexpr unsigned kConnectTimeoutMs = 3000;

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* const kUsage =
    "usage: ticksplit-ctl COMMAND [options]   (ticksplit-ctl COMMAND --help for its options)\n"
    "  run SCHEDULE.yaml     run a schedule, write the history, print a summary\n"
    "  plan SCHEDULE.yaml    print every resolved step; apply nothing\n"
    "  status                show what each agent reports\n"
    "  heal                  heal every fault on the agents\n"
    "  check HISTORY... --model MODEL\n"
    "                        check a history of client operations (linearizability, set, queue,\n"
    "                        counter) and attribute anomalies to faults; talks to no agent\n";

// ticksplit_ctl@<address> for run and plan. status and heal add their name and pid, so they
// can be used during a run: an agent drops the older of two connections from one node name,
// and with it that node's faults.
std::string default_name(const std::string& cmd) {
  const std::string alive =
      cmd == "run" || cmd == "plan" ? "ticksplit_ctl" : "ticksplit_ctl_" + cmd + "_" + std::to_string(::getpid());
  auto local = net::local_addresses();
  for (const auto& a : local ? *local : std::vector<net::Cidr>{})
    if (a.family == AF_INET && !net::is_loopback(a)) {
      const auto t = a.to_string();
      return alive + "@" + t.substr(0, t.find('/'));
    }
  return alive + "@127.0.0.1";
}

void add_connection_options(po::options_description& d) {
  d.add_options()("cookie-file", po::value<std::string>(),
                  "Erlang cookie file (default: the schedule's cookie_file, else ~/.erlang.cookie)")(
      "name", po::value<std::string>(),
      "the controller's node name (default ticksplit_ctl@<an address of this host>; status and heal add "
      "_<command>_<pid>)");
}

po::variables_map parse(const std::string& cmd, po::options_description& d, po::positional_options_description* pos,
                        const std::vector<std::string>& args) {
  d.add_options()("help,h", "show this help");
  po::variables_map vm;
  try {
    po::command_line_parser p(args);
    p.options(d);
    if (pos != nullptr) p.positional(*pos);
    po::store(p.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Usage(cmd + ": " + e.what() + " (see ticksplit-ctl " + cmd + " --help)");
  }
  if (vm.count("help")) {
    std::cout << "ticksplit-ctl " << cmd << "\n" << d;
    std::exit(0);
  }
  return vm;
}

std::uint64_t seed_of(const po::variables_map& vm, const Schedule& s) {
  if (vm.count("seed")) return vm["seed"].as<std::uint64_t>();
  if (s.seed) return *s.seed;
  return static_cast<std::uint64_t>(ticksplit::clock::unix_us());
}

std::unique_ptr<CnodeAgents> client_for(const std::string& cmd, const po::variables_map& vm,
                                        const std::optional<Schedule>& s) {
  std::string cookie_file = default_cookie_path();
  if (s && s->cookie_file) cookie_file = *s->cookie_file;
  if (vm.count("cookie-file")) cookie_file = vm["cookie-file"].as<std::string>();
  const auto name = vm.count("name") ? vm["name"].as<std::string>() : default_name(cmd);
  return std::make_unique<CnodeAgents>(name, read_cookie_file(cookie_file));
}

Fd block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // Without these a Ctrl-C would kill the run with faults still armed, unhealed and unrecorded:
  // refuse to start instead.
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw ConfigError(system_error("sigprocmask", errno).message);
  Fd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) throw ConfigError(system_error("signalfd", errno).message);
  return fd;
}

int cmd_plan_or_run(const std::string& cmd, const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("schedule", po::value<std::string>(), "the schedule (YAML)")(
      "seed", po::value<std::uint64_t>(), "seed for random shapes and window classes (overrides the schedule's)");
  if (cmd == "run")
    d.add_options()("history", po::value<std::string>(), "history file (default ticksplit-history.jsonl)");
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
    cluster.nodes = schedule.nodes;
    cluster.net_ticktime_ms = *schedule.net_ticktime_ms;
    cluster.tick_intensity = schedule.tick_intensity.value_or(4);
    for (const auto& n : cluster.nodes) {  // an agent on the same host serves a node
      const auto host = net::node_host(n);
      for (const auto& a : schedule.agents)
        if (net::node_host(a) == host) cluster.agent_of[n] = a;
      if (cluster.agent_of.count(n)) continue;
      auto agent = default_agent_of(n);
      if (!agent) {
        std::fprintf(stderr, "ticksplit-ctl: no agent for node %s (name one in 'agents')\n", n.c_str());
        return 2;
      }
      cluster.agent_of[n] = *agent;
    }
  } else {
    client = client_for(cmd, vm, schedule);
    if (auto s = client->connect(schedule.agents, kConnectTimeoutMs); !s) {
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
  auto signals = block_signals();
  History history(vm.count("history") ? vm["history"].as<std::string>() : "ticksplit-history.jsonl");
  std::cout << describe_plan(plan, cluster, seed) << std::flush;
  auto result = run_plan(*client, cluster, plan, seed, history, signals.get());
  std::cout << "\n" << summary(result.faults, cluster) << "\nhistory: " << history.path() << "\n";
  return result.exit_code;
}

std::vector<std::string> agents_of(const po::variables_map& vm, std::optional<Schedule>& s) {
  std::vector<std::string> agents;
  if (vm.count("agent")) agents = vm["agent"].as<std::vector<std::string>>();
  if (vm.count("schedule")) {
    s = load_schedule(vm["schedule"].as<std::string>());
    agents.insert(agents.end(), s->agents.begin(), s->agents.end());
  }
  if (agents.empty()) throw Usage("name the agents with --agent NODE (repeatable) or --schedule FILE");
  return agents;
}

int cmd_status_or_heal(const std::string& cmd, const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("agent", po::value<std::vector<std::string>>(), "an agent's node name (repeatable)")(
      "schedule", po::value<std::string>(), "take the agents from this schedule");
  add_connection_options(d);
  auto vm = parse(cmd, d, nullptr, args);
  std::optional<Schedule> schedule;
  const auto agents = agents_of(vm, schedule);
  auto client = client_for(cmd, vm, schedule);
  int rc = 0;
  std::vector<std::pair<std::string, ei::Term>> reqs;
  for (const auto& a : agents) {
    if (auto s = client->connect({a}, kConnectTimeoutMs); !s) {
      std::fprintf(stderr, "ticksplit-ctl: %s\n", s.error().message.c_str());
      rc = 1;
      continue;
    }
    reqs.emplace_back(a, ei::atom(cmd == "status" ? "status" : "heal"));
  }
  for (auto& [agent, r] : client->call_all(reqs, call_timeout_ms)) {
    if (!r) {
      std::fprintf(stderr, "ticksplit-ctl: %s: %s\n", agent.c_str(), r.error().message.c_str());
      rc = 1;
      continue;
    }
    if (cmd == "heal") {
      const auto* ok = r->tuple_of(2);
      std::cout << agent << ": healed " << (ok != nullptr ? ei::to_string((*ok)[1]) : ei::to_string(*r)) << "\n";
      continue;
    }
    auto s = proto::parse_status_reply(*r);
    if (!s) {
      std::fprintf(stderr, "ticksplit-ctl: %s: %s\n", agent.c_str(), s.error().message.c_str());
      rc = 1;
      continue;
    }
    std::cout << agent << ": backend " << s->backend << ", version " << s->version;
    if (auto w = s->window())
      std::cout << ", net_ticktime " << *s->net_ticktime_ms << " ms (window " << w->min_ms << "-" << w->max_ms
                << " ms)";
    std::cout << ", " << s->faults.size() << " fault(s)\n";
    for (const auto& n : s->nodes) std::cout << "  " << n.node << (n.connected ? " joined" : " NOT joined") << "\n";
    for (const auto& f : s->faults) std::cout << "  fault " << ei::to_string(f) << "\n";
  }
  return rc;
}

std::int64_t bounded(const po::variables_map& vm, const char* name, std::int64_t least, std::int64_t most) {
  const auto v = vm[name].as<std::int64_t>();
  if (v < least || v > most)
    throw Usage(std::string("check: --") + name + " must be " + std::to_string(least) + ".." + std::to_string(most));
  return v;
}

// Reads, pairs and checks the histories; never connects to anything.
int cmd_check(const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("history", po::value<std::vector<std::string>>(),
                  "history files (ticksplit JSON Lines or Jepsen EDN), merged by time_us")(
      "model", po::value<std::string>(), "register, cas-register, kv, set, queue or counter")(
      "json", po::bool_switch(), "print one JSON document (docs/check.md) instead of the text report")(
      "max-ms", po::value<std::int64_t>()->default_value(60'000),
      "time budget of the whole check; a key whose search exceeds it is unknown")(
      "max-mb", po::value<std::int64_t>()->default_value(1024), "memory budget of one key's linearizability search")(
      "independent", po::bool_switch(), "values are Jepsen's [key value] tuples: check each key alone")(
      "window-ms", po::value<std::int64_t>(),
      "detection window for attributing anomalies to faults healed before them (default: run_start's window_ms)");
  po::positional_options_description pos;
  pos.add("history", -1);
  auto vm = parse("check", d, &pos, args);
  if (!vm.count("history")) throw Usage("check: at least one history file is required");
  if (!vm.count("model")) throw Usage("check: --model is required (register, cas-register, kv, set, queue, counter)");
  const auto model = chk::model_from(vm["model"].as<std::string>());
  if (!model)
    throw Usage("check: unknown model '" + vm["model"].as<std::string>() +
                "' (register, cas-register, kv, set, queue, counter)");
  chk::CheckOptions o;
  o.model = *model;
  constexpr std::int64_t kMaxBudget = std::int64_t{1} << 40;  // ms or MB: past any real machine
  o.budget.max_ms = bounded(vm, "max-ms", 1, kMaxBudget);
  o.budget.max_mb = bounded(vm, "max-mb", 1, kMaxBudget);
  if (vm.count("window-ms")) o.window_ms = bounded(vm, "window-ms", 0, chk::kMaxWindowMs);
  const auto history =
      chk::read_history(vm["history"].as<std::vector<std::string>>(), {*model, vm["independent"].as<bool>()});
  const auto report = chk::check(history, o);
  if (vm["json"].as<bool>())
    std::cout << chk::report_json(report, history).dump(2) << "\n";
  else
    std::cout << chk::report_text(report, history);
  return report.verdict == chk::Verdict::valid ? 0 : report.verdict == chk::Verdict::invalid ? 1 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    const std::string cmd = args[0];
    args.erase(args.begin());
    if (cmd == "run" || cmd == "plan") return cmd_plan_or_run(cmd, args);
    if (cmd == "status" || cmd == "heal") return cmd_status_or_heal(cmd, args);
    if (cmd == "check") return cmd_check(args);
    throw Usage("unknown command '" + cmd + "'\n" + kUsage);
  } catch (const ScheduleError& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  } catch (const Usage& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  } catch (const chk::ParseError& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  }
}
