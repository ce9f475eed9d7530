#include "agent/fault/peers.hpp"

#include <string_view>
#include <unordered_set>

#include "common/net/resolve.hpp"

namespace ticksplit::agent::fault {
namespace {

// Addresses are full-length prefixes here, so family and bytes identify one.
struct AddressHash {
  std::size_t operator()(const net::Cidr& a) const noexcept {
    return std::hash<std::string_view>{}(
               std::string_view(reinterpret_cast<const char*>(a.addr.data()), a.addr.size())) ^
           static_cast<std::size_t>(a.family);
  }
};

}  // namespace

std::vector<std::string> peer_host_names(const std::vector<proto::Peer>& peers) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  for (const auto& p : peers) {
    if (!p.is_node) continue;
    auto host = net::node_host(p.text);
    if (net::parse_cidr(host)) continue;  // a literal: resolve_host needs no resolver for it
    if (seen.insert(host).second) names.push_back(std::move(host));
  }
  return names;
}

std::variant<std::vector<net::Cidr>, proto::Refusal> resolve_peers(const std::vector<proto::Peer>& peers,
                                                                   const HostResolver& resolve) {
  using K = proto::Refusal::Kind;
  std::vector<net::Cidr> out;
  std::unordered_set<net::Cidr, AddressHash> seen;
  // Was O(n²) (a linear search per address): 65,536 addresses held the loop for seconds.
  const auto add = [&](const std::vector<net::Cidr>& found) {
    for (const auto& a : found) {
      if (!seen.insert(a).second) continue;
      out.push_back(a);
      if (out.size() > max_request_addresses) return false;
    }
    return true;
  };
  const proto::Refusal too_many{K::too_many_addresses, {}, {}, static_cast<std::int64_t>(max_request_addresses), 0};
  for (const auto& p : peers) {
    if (p.is_node) {
      auto found = resolve(net::node_host(p.text));
      if (!found) return proto::Refusal{K::unresolvable_peer, p.text, found.error().message, 0, 0};
      if (!add(*found)) return too_many;
      continue;
    }
    auto block = net::parse_cidr(p.text);
    if (!block) return proto::Refusal{K::bad_peer, p.text, block.error().message, 0, 0};
    auto found = net::expand(*block, max_block_addresses);
    if (!found) return proto::Refusal{K::peer_block_too_large, p.text, found.error().message, 0, 0};
    if (!add(*found)) return too_many;
  }
  return out;
}

}  // namespace ticksplit::agent::fault
