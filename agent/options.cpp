#include "agent/options.hpp"

#include <boost/program_options.hpp>
#include <sstream>

#include "agent/access/flags.hpp"
#include "agent/config_file.hpp"
#include "agent/kill/guard.hpp"
#include "agent/kill/spawned_kill_guards.hpp"
#include "agent/pause/spawned_guards.hpp"
#include "common/cookie.hpp"
#include "agent/version.hpp"
#include "agent/watcher.hpp"
#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/net/resolve.hpp"
#include "common/node_name.hpp"

namespace po = boost::program_options;

namespace ticksplit::agent {

namespace {

po::options_description describe() {
  po::options_description d(
      "ticksplit-agent: joins local BEAM nodes as a hidden C-node and applies partitions on this host\n\nOptions");
  d.add_options()("help,h", "show this help and exit")("version", "show the version and exit")(
      "cleanup",
      "remove the drop filters (and clsact qdiscs) a killed agent left in this network namespace, then exit; "
      "refused while an agent runs here; --interface limits it, node options are ignored")(
      "config", po::value<std::string>(),
      "read options from this file, `key = value` lines with the long option names (e.g. node = app@host); the "
      "command line overrides a single-valued one and adds to a repeatable one")(
      "node", po::value<std::vector<std::string>>()->composing(),
      "local BEAM node to join, e.g. app@198.51.100.11 (repeatable, at least one)")(
      "name", po::value<std::string>(), "this agent's node name (default: ticksplit@<host of the first --node>)")(
      "cookie-file", po::value<std::string>(),
      "file holding the Erlang cookie, owner-only permissions (default: ~/.erlang.cookie)")(
      "exempt", po::value<std::vector<std::string>>()->composing(),
      "address or CIDR that a fault may never drop (repeatable)")(
      "max-fault", po::value<std::string>()->default_value("10m"), "longest allowed fault, e.g. 90s, 10m")(
      "interface", po::value<std::vector<std::string>>()->composing(),
      "interface to enforce partitions on (repeatable; default: every non-loopback interface at start-up)")(
      "event-log-size", po::value<std::size_t>()->default_value(10000), "events kept in memory for {events, Seq}")(
      "state-dir", po::value<std::string>()->default_value("/run/ticksplit"),
      "where the fault ledger is kept, so that a restarted agent reports what a killed one left")(
      "node-start", po::value<std::vector<std::string>>()->composing(),
      "NODE=COMMAND: how a kill_node fault with a restart starts that --node again (run as /bin/sh -c COMMAND, in "
      "its own session, stdio on /dev/null; repeatable, one per node)")(
      "log-level", po::value<std::string>()->default_value("info"), "trace, debug, info, warn, error or off")(
      "forward-logs", po::value<std::string>()->default_value("notice"),
      "forward each node's log events at or above this OTP logger level as `log` events (emergency, alert, "
      "critical, error, warning, notice, info, debug), or none")(
      "listen", po::value<std::string>(), "listen for distribution connections on this one address of the host only "
      "(default: every IPv4 address)")(
      "allow-from", po::value<std::vector<std::string>>()->composing(),
      "accept connections only from peers inside this address or CIDR (repeatable, at most 64)")(
      "allow", po::value<std::vector<std::string>>()->composing(),
      "serve requests only from nodes whose name matches this pattern, * for any run of characters (repeatable, at "
      "most 64; not a security boundary: a name is only claimed)");
  return d;
}

void check_node_name(const std::string& n, const char* what) {
  if (!valid_node_name(n))
    throw ConfigError(std::string(what) + " '" + n + "' is not a node name (name@host, printable ASCII, at most " +
                      std::to_string(max_node_name) + " bytes)");
}

std::vector<std::string> interfaces(const po::variables_map& vm) {
  if (!vm.count("interface")) return {};
  auto out = vm["interface"].as<std::vector<std::string>>();
  for (const auto& i : out)
    if (i.empty() || i.size() >= 16 || i.find('/') != std::string::npos)
      throw ConfigError("--interface '" + i + "' is not an interface name");
  return out;
}

std::string log_level(const po::variables_map& vm) {
  auto level = vm["log-level"].as<std::string>();
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(levels), std::end(levels), level) == std::end(levels))
    throw ConfigError("--log-level must be one of trace, debug, info, warn, error, off");
  return level;
}

}  // namespace

Parsed parse_options(int argc, const char* const argv[]) {
  const auto desc = describe();
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see --help)");
  }
  // After the command line, so that the command line wins (agent/config_file.hpp).
  if (vm.count("config")) store_config_file(vm["config"].as<std::string>(), desc, vm);
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see --help)");
  }
  if (vm.count("help")) {
    std::ostringstream os;
    os << desc;
    return {std::nullopt, os.str()};
  }
  // The guards' paths too: where this executable finds them (agent/helper_path.hpp).
  if (vm.count("version"))
    return {std::nullopt, std::string("ticksplit-agent ") + version + "\npause guard: " + pause::default_guard_path() +
                              "\nkill guard: " + kill::default_kill_guard_path() + "\n"};

  Options o;
  o.interfaces = interfaces(vm);
  o.log_level = log_level(vm);
  // --cleanup acts on this namespace's interfaces only: the node options (a service's config
  // file gives them to both modes) are not needed, and not checked, as no node is joined.
  if (vm.count("cleanup")) {
    o.cleanup = true;
    // The ledger of the agent it cleans up after, for the pauses that agent left (best effort:
    // without a name there is no ledger to read).
    o.state_dir = vm["state-dir"].as<std::string>();
    if (vm.count("name")) {
      o.name = vm["name"].as<std::string>();
    } else if (vm.count("node")) {
      o.name = default_agent_of(vm["node"].as<std::vector<std::string>>().front()).value_or("");
    }
    if (!valid_node_name(o.name)) o.name.clear();
    return {std::move(o), ""};
  }
  if (!vm.count("node")) throw ConfigError("at least one --node is required (see --help)");
  o.nodes = vm["node"].as<std::vector<std::string>>();
  for (const auto& n : o.nodes) check_node_name(n, "--node");
  if (vm.count("name")) {
    o.name = vm["name"].as<std::string>();
  } else if (auto d = default_agent_of(o.nodes.front())) {
    o.name = *d;
  } else {
    throw ConfigError("no default agent name for --node '" + o.nodes.front() + "' (its host is too long); give --name");
  }
  check_node_name(o.name, "--name");
  for (const auto& n : o.nodes)
    if (n == o.name) throw ConfigError("--name " + o.name + " is also given as a --node");

  if (vm.count("exempt"))
    for (const auto& e : vm["exempt"].as<std::vector<std::string>>()) {
      auto c = net::parse_cidr(e);
      if (!c) throw ConfigError("--exempt: " + c.error().message);
      o.exempt.push_back(*c);
    }
  auto max_fault = parse_duration_ms(vm["max-fault"].as<std::string>());
  if (!max_fault) throw ConfigError("--max-fault: " + max_fault.error().message);
  o.max_fault_ms = *max_fault;

  if (vm.count("node-start"))
    for (const auto& spec : vm["node-start"].as<std::vector<std::string>>()) {
      const auto eq = spec.find('=');
      if (eq == std::string::npos) throw ConfigError("--node-start '" + spec.substr(0, 80) + "' is not NODE=COMMAND");
      const auto node = spec.substr(0, eq);
      const auto command = spec.substr(eq + 1);
      check_node_name(node, "--node-start");
      if (std::find(o.nodes.begin(), o.nodes.end(), node) == o.nodes.end())
        throw ConfigError("--node-start " + node + " is not a --node of this agent");
      if (command.empty() || command.size() > kill::max_command)
        throw ConfigError("--node-start " + node + ": the command must be 1 to " + std::to_string(kill::max_command) +
                          " bytes");
      if (!o.node_start.emplace(node, command).second)
        throw ConfigError("--node-start " + node + " is given twice");
    }

  if (vm.count("listen")) {
    o.listen = access::parse_listen(vm["listen"].as<std::string>());
    access::check_listen_matches_name(*o.listen, o.name);
  }
  if (vm.count("allow-from")) o.allow_from = access::parse_allow_from(vm["allow-from"].as<std::vector<std::string>>());
  if (vm.count("allow")) o.allow = access::parse_allow(vm["allow"].as<std::vector<std::string>>());

  o.event_log_size = vm["event-log-size"].as<std::size_t>();
  o.state_dir = vm["state-dir"].as<std::string>();
  if (o.event_log_size == 0) throw ConfigError("--event-log-size must be at least 1");

  o.forward_logs = vm["forward-logs"].as<std::string>();
  if (o.forward_logs != "none" && !watcher::is_logger_level(o.forward_logs))
    throw ConfigError("--forward-logs must be an OTP logger level (emergency, alert, critical, error, warning, "
                      "notice, info, debug) or none");

  o.cookie_file = vm.count("cookie-file") ? vm["cookie-file"].as<std::string>() : default_cookie_path();
  o.cookie = read_cookie_file(o.cookie_file);
  return {std::move(o), ""};
}

}  // namespace ticksplit::agent
