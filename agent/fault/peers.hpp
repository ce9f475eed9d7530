// Partition peers as requested (node names, addresses, CIDRs) to the addresses the drop map
// is keyed by. CIDRs are expanded rather than matched by an LPM trie: the hash lookup the
// classifier does costs the same for 1 or 65,536 entries, and test networks are small.
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "common/net/cidr.hpp"
#include "common/proto/fault.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::agent::fault {

// The most addresses one CIDR peer may expand to (a /20 or a /116).
inline constexpr std::size_t max_block_addresses = 4096;
// The most distinct addresses one request may cut: four such blocks. Each costs a map lookup
// and update on the engine's thread (about 4 µs for both), so a request is armed in about
// 65 ms (measured by the engine benchmark) and work posted after it waits no longer than that;
// the map itself holds 65,536 entries for every fault of the agent (Engine refuses what would
// not fit).
inline constexpr std::size_t max_request_addresses = 16384;

// The most distinct host names one request's node peers may name: each is looked up before
// the request is applied, one after the other on a thread, within one deadline.
inline constexpr std::size_t max_peer_host_names = 16;

// The host names (not address literals) of the node peers, each once, in the order first
// named: what must be looked up, off the agent's loop, before resolve_peers can run.
std::vector<std::string> peer_host_names(const std::vector<proto::Peer>& peers);

// A node peer's host to its addresses: net::resolve_host, or in the agent what a net::Lookup
// found for the names peer_host_names gave (so that no resolver runs on the loop).
using HostResolver = std::function<Result<std::vector<net::Cidr>>(const std::string& host)>;

// The distinct addresses, in the order first requested, or the Reason of {error, Reason}
// naming the first peer that failed, or {too_many_addresses, Max} as soon as there are more
// than max_request_addresses (expansion stops there: the work is bounded by the limit, not by
// what was asked). Linear in the addresses.
std::variant<std::vector<net::Cidr>, proto::Refusal> resolve_peers(const std::vector<proto::Peer>& peers,
                                                                   const HostResolver& resolve);

}  // namespace ticksplit::agent::fault
