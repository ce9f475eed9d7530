// Where the agent's safety rules get their addresses, failing closed: an agent that cannot
// list its own addresses does not start (it could not keep a fault off them), and a requester
// whose host cannot be resolved may not cut anything (its own address could not be spared).
// The address source is a seam, faked in unit tests.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/fault/engine.hpp"
#include "agent/options.hpp"
#include "common/error.hpp"
#include "common/net/cidr.hpp"

namespace ticksplit::agent {

struct AddressSource {
  std::function<Result<std::vector<net::Cidr>>()> local;                     // getifaddrs
  std::function<Result<std::vector<net::Cidr>>(const std::string&)> resolve;  // a host's addresses
};
AddressSource system_addresses();

// The engine's policy: exempt blocks, limits, and this host's own addresses (its interfaces
// and every --node's host). Fails if any of those cannot be listed.
Result<fault::Policy> make_policy(const Options& o, const AddressSource& src);

// What a requester's faults must spare: the address its connection comes from (getpeername)
// and every address its node's host resolves to. Resolved once, when the connection opens,
// never on a request. Fails if the host cannot be resolved.
Result<std::vector<net::Cidr>> requester_addresses(const std::string& node, const std::optional<net::Cidr>& peer,
                                                   const AddressSource& src);

}  // namespace ticksplit::agent
