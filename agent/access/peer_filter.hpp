// --allow-from: which peer addresses may open a distribution connection to the agent, decided
// on the accepted socket's peer address before a byte of the handshake is read. Unlike a node
// name, the address is not claimed by the peer: it is as strong as the network's
// anti-spoofing (a TCP connection needs the handshake's replies to reach the address).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "common/net/cidr.hpp"

namespace ticksplit::agent::access {

constexpr std::size_t max_allow_from = 64;  // --allow-from given at most this often

// The peer's address as a /32 or /128 (IPv4-mapped IPv6 as IPv4, as every rule compares), or
// nothing if the socket address is not a complete IPv4 or IPv6 one.
std::optional<net::Cidr> peer_address(const sockaddr_storage& ss, socklen_t len) noexcept;

// Whether that peer may connect: no blocks (no --allow-from) allow every peer; otherwise its
// address must lie inside one of them. An address that cannot be read is refused (fail closed).
bool peer_allowed(const sockaddr_storage& ss, socklen_t len, const std::vector<net::Cidr>& allowed) noexcept;

}  // namespace ticksplit::agent::access
