#include "common/cnode/listen.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ticksplit::cnode {

namespace {

std::string shown(const net::Cidr& a) {
  auto s = a.to_string();
  return s.substr(0, s.rfind('/'));
}

}  // namespace

Result<Listener> listen_on(const net::Cidr& address, int backlog) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (address.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, address.addr.data(), 4);
    len = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, address.addr.data(), 16);
    len = sizeof *in6;
  }
  Fd fd(::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error("socket for --listen " + shown(address), errno);
  // As ei_listen does: a restarted agent may bind while the old one's connections linger.
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    return system_error(
        "cannot bind --listen " + shown(address) + (err == EADDRNOTAVAIL ? " (not an address of this host)" : ""), err);
  }
  if (::listen(fd.get(), backlog) != 0) return system_error("cannot listen on " + shown(address), errno);
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen) != 0)
    return system_error("getsockname on --listen " + shown(address), errno);
  const int port = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port)
                                              : ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
  return Listener{std::move(fd), port};
}

}  // namespace ticksplit::cnode
