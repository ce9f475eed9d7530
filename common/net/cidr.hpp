// IPv4/IPv6 addresses and CIDR blocks, as given by users (--exempt, partition peers).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ticksplit::net {

struct Cidr {
  int family = 0;                       // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> addr{};  // network byte order; IPv4 uses the first 4 bytes
  int prefix = 0;                       // 0..32 or 0..128

  bool operator==(const Cidr&) const = default;
  [[nodiscard]] std::string to_string() const;
  // Whether `other` (an address or a block) lies inside this block.
  [[nodiscard]] bool contains(const Cidr& other) const noexcept;
};

// "198.51.100.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be 0;
// the whole text must be the address (a NUL and what follows is refused, not ignored).
// IPv4-mapped IPv6 (::ffff:198.51.100.12, ::ffff:0:0/96 and longer) comes back as IPv4.
Result<Cidr> parse_cidr(std::string_view text);

// The IPv4 form of an IPv4-mapped IPv6 address or block; anything else unchanged.
Cidr normalised(const Cidr& c) noexcept;

// 0.0.0.0 or :: as an address (not a block): it names no host, so no fault may cut it.
bool is_unspecified(const Cidr& a) noexcept;

}  // namespace ticksplit::net
