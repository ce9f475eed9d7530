#include "common/net/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace ticksplit::net {

std::string Cidr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, addr.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

bool Cidr::contains(const Cidr& other) const noexcept {
  if (family != other.family || other.prefix < prefix) return false;
  const int full = prefix / 8;
  for (int i = 0; i < full; ++i)
    if (addr[i] != other.addr[i]) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (other.addr[full] & mask);
}

Result<Cidr> parse_cidr(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Error{Domain::config, 0, "'" + std::string(text) + "' is not an address or CIDR: " + why};
  };
  // inet_pton reads a C string: a NUL would hide whatever follows it.
  if (text.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  const auto slash = text.find('/');
  const std::string host(text.substr(0, slash));
  Cidr c;
  if (inet_pton(AF_INET, host.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET6;
  } else {
    return bad("unparsable address");
  }
  const int max = c.family == AF_INET ? 32 : 128;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), c.prefix);
    if (ec != std::errc{} || end != p.data() + p.size() || p.empty() || c.prefix < 0 || c.prefix > max)
      return bad("prefix must be 0.." + std::to_string(max));
  }
  Cidr net = c;
  for (int bit = c.prefix; bit < max; ++bit) net.addr[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  if (net.addr != c.addr) return bad("host bits set beyond /" + std::to_string(c.prefix));
  return normalised(c);
}

// ::ffff:a.b.c.d is the IPv4 host a.b.c.d as an IPv6 socket shows it; on the wire its packets
// are IPv4. Every rule (loopback, --exempt, own addresses, the drop map's keys) compares IPv4
// forms, so a mapped address or block (/96 and longer) becomes its IPv4 form here, once.
Cidr normalised(const Cidr& c) noexcept {
  static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (c.family != AF_INET6 || c.prefix < 96 || !std::equal(kMapped.begin(), kMapped.end(), c.addr.begin())) return c;
  Cidr v4;
  v4.family = AF_INET;
  std::copy(c.addr.begin() + 12, c.addr.end(), v4.addr.begin());
  v4.prefix = c.prefix - 96;
  return v4;
}

bool is_unspecified(const Cidr& a) noexcept {
  const int max = a.family == AF_INET ? 32 : 128;
  return a.prefix == max && std::all_of(a.addr.begin(), a.addr.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace ticksplit::net
