#include "agent/access/peer_filter.hpp"

#include <netinet/in.h>

#include <algorithm>

#include "common/net/resolve.hpp"

namespace ticksplit::agent::access {

std::optional<net::Cidr> peer_address(const sockaddr_storage& ss, socklen_t len) noexcept {
  // A length shorter than the family's address would leave bytes unset: trust none of it.
  if (ss.ss_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in)))
    return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
  if (ss.ss_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6)))
    return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));  // ::ffff:a.b.c.d as a.b.c.d
  return std::nullopt;
}

bool peer_allowed(const sockaddr_storage& ss, socklen_t len, const std::vector<net::Cidr>& allowed) noexcept {
  if (allowed.empty()) return true;
  const auto peer = peer_address(ss, len);
  if (!peer) return false;
  return std::any_of(allowed.begin(), allowed.end(), [&](const net::Cidr& block) { return block.contains(*peer); });
}

}  // namespace ticksplit::agent::access
