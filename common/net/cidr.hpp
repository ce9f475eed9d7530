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

// "198.51.100.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be 0.
Result<Cidr> parse_cidr(std::string_view text);

}  // namespace ticksplit::net
