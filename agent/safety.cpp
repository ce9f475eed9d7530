#include "agent/safety.hpp"

#include <algorithm>

#include "common/net/resolve.hpp"

namespace ticksplit::agent {

AddressSource system_addresses() { return {net::local_addresses, net::resolve_host}; }

Result<fault::Policy> make_policy(const Options& o, const AddressSource& src) {
  fault::Policy p;
  p.exempt = o.exempt;
  p.max_fault_ms = o.max_fault_ms;
  auto local = src.local();
  if (!local) return Error{Domain::config, local.error().code, "cannot list this host's addresses: " + local.error().message};
  if (local->empty()) return Error{Domain::config, 0, "this host has no address to protect"};
  p.local = std::move(local).value();
  for (const auto& n : o.nodes) {
    auto found = src.resolve(net::node_host(n));
    if (!found) return Error{Domain::config, found.error().code, "--node " + n + ": " + found.error().message};
    p.local.insert(p.local.end(), found->begin(), found->end());
  }
  return p;
}

Result<std::vector<net::Cidr>> requester_addresses(const std::string& node, const std::optional<net::Cidr>& peer,
                                                   const AddressSource& src) {
  auto found = src.resolve(net::node_host(node));
  if (!found) return found.error();
  auto out = std::move(found).value();
  if (peer && std::find(out.begin(), out.end(), *peer) == out.end()) out.push_back(*peer);
  return out;
}

}  // namespace ticksplit::agent
