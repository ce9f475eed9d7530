#include "agent/fault/peers.hpp"

#include <algorithm>

#include "common/net/resolve.hpp"

namespace ticksplit::agent::fault {

std::variant<std::vector<net::Cidr>, ei::Term> resolve_peers(const std::vector<proto::Peer>& peers) {
  using ei::atom;
  using ei::tuple;
  std::vector<net::Cidr> out;
  const auto add = [&](const std::vector<net::Cidr>& found) {
    for (const auto& a : found)
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (const auto& p : peers) {
    if (p.is_node) {
      auto found = net::resolve_host(net::node_host(p.text));
      if (!found) return tuple({atom("unresolvable_peer"), atom(p.text), ei::binary(found.error().message)});
      add(*found);
      continue;
    }
    auto block = net::parse_cidr(p.text);
    if (!block) return tuple({atom("bad_peer"), ei::binary(p.text), ei::binary(block.error().message)});
    auto found = net::expand(*block, max_block_addresses);
    if (!found) return tuple({atom("peer_block_too_large"), ei::binary(p.text), ei::binary(found.error().message)});
    add(*found);
  }
  return out;
}

}  // namespace ticksplit::agent::fault
