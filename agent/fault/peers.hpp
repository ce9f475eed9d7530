// Partition peers as requested (node names, addresses, CIDRs) to the addresses the drop map
// is keyed by. CIDRs are expanded rather than matched by an LPM trie: the hash lookup the
// classifier does costs the same for 1 or 65,536 entries, and test networks are small.
#pragma once

#include <variant>
#include <vector>

#include "common/ei/term.hpp"
#include "common/net/cidr.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::agent::fault {

// The most addresses one CIDR peer may expand to (a /20 or a /116).
inline constexpr std::size_t max_block_addresses = 4096;

// The addresses, or the Reason of {error, Reason} naming the first peer that failed.
std::variant<std::vector<net::Cidr>, ei::Term> resolve_peers(const std::vector<proto::Peer>& peers);

}  // namespace ticksplit::agent::fault
