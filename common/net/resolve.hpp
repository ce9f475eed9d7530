// From what users write to the addresses a drop map needs: node names to host addresses,
// CIDR blocks to the addresses they hold, and this host's own addresses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/net/cidr.hpp"

struct sockaddr;

namespace ticksplit::net {

// The host part of a node name ("app@198.51.100.11" -> "198.51.100.11"), or "" if none.
std::string node_host(std::string_view node);

// An address literal is itself; a name goes through getaddrinfo (both families). Each result
// is a full-length prefix (/32 or /128).
Result<std::vector<Cidr>> resolve_host(const std::string& host);

// Every address of the block, if there are at most `limit`; an Error saying so otherwise.
Result<std::vector<Cidr>> expand(const Cidr& block, std::size_t limit);

// An AF_INET or AF_INET6 socket address as a full-length prefix, IPv4-mapped normalised.
Cidr from_sockaddr(const sockaddr* sa);

bool is_loopback(const Cidr& address) noexcept;

// Every address configured on this host's interfaces (getifaddrs), loopback included.
Result<std::vector<Cidr>> local_addresses();

}  // namespace ticksplit::net
