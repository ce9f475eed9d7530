#include "common/net/resolve.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <memory>

namespace ticksplit::net {

Cidr from_sockaddr(const sockaddr* sa) {
  Cidr c;
  c.family = sa->sa_family;
  if (sa->sa_family == AF_INET) {
    std::memcpy(c.addr.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    c.prefix = 32;
  } else {
    std::memcpy(c.addr.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    c.prefix = 128;
  }
  return normalised(c);  // a resolver or a socket may hand back ::ffff:a.b.c.d
}

namespace {

void add_unique(std::vector<Cidr>& out, const Cidr& c) {
  if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
}

}  // namespace

std::string node_host(std::string_view node) {
  const auto at = node.find('@');
  return at == std::string_view::npos ? "" : std::string(node.substr(at + 1));
}

Result<std::vector<Cidr>> resolve_host(const std::string& host) {
  if (host.empty()) return Error{Domain::config, 0, "no host part to resolve"};
  if (auto literal = parse_cidr(host)) return std::vector<Cidr>{*literal};
  // Only a well-formed name goes to the resolver (RFC 1123 letters, digits, '-', '.').
  const bool well_formed = host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char ch) {
                             return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '.';
                           });
  if (!well_formed) return Error{Domain::config, 0, "'" + host + "' is neither an address nor a host name"};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0)
    return Error{Domain::system, rc, "cannot resolve '" + host + "': " + gai_strerror(rc)};
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  std::vector<Cidr> out;
  for (const auto* ai = found; ai != nullptr; ai = ai->ai_next)
    if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) add_unique(out, from_sockaddr(ai->ai_addr));
  if (out.empty()) return Error{Domain::config, 0, "'" + host + "' has no IPv4 or IPv6 address"};
  return out;
}

Result<std::vector<Cidr>> expand(const Cidr& block, std::size_t limit) {
  const int bits = (block.family == AF_INET ? 32 : 128) - block.prefix;
  if (bits >= 63 || (std::size_t{1} << bits) > limit)
    return Error{Domain::config, 0,
                 block.to_string() + " holds more than " + std::to_string(limit) + " addresses; name a smaller block"};
  std::vector<Cidr> out;
  const std::size_t count = std::size_t{1} << bits;
  out.reserve(count);
  const int last = block.family == AF_INET ? 3 : 15;
  for (std::size_t i = 0; i < count; ++i) {
    Cidr a = block;
    a.prefix = block.family == AF_INET ? 32 : 128;
    // add i to the address, byte by byte from the end (host bits are zero, so no carry out)
    std::size_t rest = i;
    for (int b = last; b >= 0 && rest != 0; --b, rest >>= 8)
      a.addr[b] = static_cast<std::uint8_t>(a.addr[b] | (rest & 0xff));
    out.push_back(a);
  }
  return out;
}

bool is_loopback(const Cidr& a) noexcept {
  if (a.family == AF_INET) return a.addr[0] == 127;
  static const std::array<std::uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a.addr == one;
}

Result<std::vector<Cidr>> local_addresses() {
  std::vector<Cidr> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return system_error("getifaddrs", errno);
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, freeifaddrs);
  for (const auto* i = list; i != nullptr; i = i->ifa_next)
    if (i->ifa_addr != nullptr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
      add_unique(out, from_sockaddr(i->ifa_addr));
  return out;
}

}  // namespace ticksplit::net
