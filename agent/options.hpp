// Command-line configuration of ticksplit-agent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/net/cidr.hpp"

namespace ticksplit::agent {

struct Options {
  // --cleanup: remove what a killed agent left, then exit (only interfaces, log_level, state_dir
  // and name, if given or derived from --node, are set)
  bool cleanup = false;
  std::vector<std::string> nodes;  // local BEAM nodes to join
  std::string name;                // our own node name
  std::string cookie;              // read from cookie_file; never logged
  std::string cookie_file;
  std::vector<net::Cidr> exempt;
  std::vector<std::string> interfaces;  // empty: every non-loopback interface
  std::int64_t max_fault_ms = std::int64_t{10} * 60 * 1000;
  std::string log_level = "info";      // this agent's own log
  std::string forward_logs = "notice";  // the nodes' log events forwarded (a logger level, or none)
  std::size_t event_log_size = 10000;
  std::string state_dir = "/run/ticksplit";  // the ledger of faults (agent/ledger.hpp); "" for none
  // --node-start NODE=CMD: how a kill_node fault with a restart starts NODE again (/bin/sh -c CMD).
  std::map<std::string, std::string> node_start;
  // Who may reach the agent (agent/access/): the one address it listens on (none: every
  // address), the peer blocks that may connect (empty: any), the node name patterns whose
  // requests it serves (empty: every node).
  std::optional<net::Cidr> listen;
  std::vector<net::Cidr> allow_from;
  std::vector<std::string> allow;
};

// What main should do: run with options, or print text (help/version) and exit 0.
struct Parsed {
  std::optional<Options> options;
  std::string text;
};

// Throws ConfigError with a message for the user on any bad flag or unreadable cookie.
Parsed parse_options(int argc, const char* const argv[]);

}  // namespace ticksplit::agent
