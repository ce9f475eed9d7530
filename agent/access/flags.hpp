// --listen, --allow-from and --allow as given on the command line, validated exactly. Each
// throws ConfigError naming the flag and what is wrong (start-up configuration only).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/net/cidr.hpp"

namespace ticksplit::agent::access {

// One address of this host, IPv4 or IPv6, as an address literal: no block, no host name, no
// unspecified address (that is the default: every address), no IPv6 link-local (it would need
// an interface scope).
net::Cidr parse_listen(const std::string& text);
// Peers reach the agent at the host of its node name (epmd there gives the port): an address
// literal there that is not the --listen address would leave the agent unreachable by its name.
// A host name is not checked (it may resolve to the address).
void check_listen_matches_name(const net::Cidr& listen, const std::string& agent_name);
// Addresses or CIDR blocks, at most max_allow_from.
std::vector<net::Cidr> parse_allow_from(const std::vector<std::string>& texts);
// Node name patterns (agent/access/name_pattern.hpp), at most max_patterns.
std::vector<std::string> parse_allow(const std::vector<std::string>& texts);

}  // namespace ticksplit::agent::access
