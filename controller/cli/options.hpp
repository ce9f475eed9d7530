// The command line of ticksplit-ctl, shared by its subcommands: usage errors (exit 2), option
// parsing with --help, the connection options and the controller's own node name.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "controller/run/cnode_agents.hpp"
#include "controller/schedule/schedule.hpp"

namespace ticksplit::ctl::cli {

namespace po = boost::program_options;

// A command line that cannot be served: printed with the usage hint, exit 2.
struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

extern const char* const usage;

// How long connecting to one agent may take (epmd lookup, TCP, handshake).
inline constexpr unsigned connect_timeout_ms = 3000;

// Parses `args` for subcommand `cmd` (adding --help, which prints the options and exits 0).
po::variables_map parse(const std::string& cmd, po::options_description& d, po::positional_options_description* pos,
                        const std::vector<std::string>& args);
// --cookie-file and --name.
void add_connection_options(po::options_description& d);
// ticksplit_ctl@<address> for run and plan. status and heal add their name and pid, so they
// can be used during a run: an agent drops the older of two connections from one node name,
// and with it that node's faults.
std::string default_name(const std::string& cmd);
// The C-node client for `cmd`: --cookie-file, else the schedule's cookie_file, else
// ~/.erlang.cookie; --name, else default_name(cmd).
std::unique_ptr<CnodeAgents> client_for(const std::string& cmd, const po::variables_map& vm,
                                        const std::optional<Schedule>& s);

}  // namespace ticksplit::ctl::cli
