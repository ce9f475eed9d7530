#include "controller/cli/options.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "common/cookie.hpp"
#include "common/net/resolve.hpp"

namespace ticksplit::ctl::cli {

const char* const usage =
    "usage: ticksplit-ctl COMMAND [options]   (ticksplit-ctl COMMAND --help for its options;\n"
    "       ticksplit-ctl --version)\n"
    "  run SCHEDULE.yaml     run a schedule, write the history, print a summary\n"
    "  plan SCHEDULE.yaml    print every resolved step; apply nothing\n"
    "  status                show what each agent reports\n"
    "  heal                  heal every fault on the agents\n"
    "  report HISTORY... -o REPORT.html [--format html|edn]\n"
    "                        draw a run (an HTML timeline) or write it as a Jepsen EDN history\n"
    "  check HISTORY... --model MODEL\n"
    "                        check a history of client operations (linearizability, set, queue,\n"
    "                        counter) and attribute anomalies to faults; talks to no agent\n";

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

std::unique_ptr<CnodeAgents> client_for(const std::string& cmd, const po::variables_map& vm,
                                        const std::optional<Schedule>& s) {
  std::string cookie_file = default_cookie_path();
  if (s && s->cookie_file) cookie_file = *s->cookie_file;
  if (vm.count("cookie-file")) cookie_file = vm["cookie-file"].as<std::string>();
  const auto name = vm.count("name") ? vm["name"].as<std::string>() : default_name(cmd);
  return std::make_unique<CnodeAgents>(name, read_cookie_file(cookie_file));
}

}  // namespace ticksplit::ctl::cli
