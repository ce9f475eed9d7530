// A listening TCP socket on exactly one address (--listen), for a C-node that must not be
// reachable on the host's other addresses. ei_xlisten takes IPv4 only, so the socket is made here.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net/cidr.hpp"

namespace ticksplit::cnode {

struct Listener {
  Fd fd;
  int port = 0;  // the ephemeral port the kernel chose, for epmd
};

// Binds `address` (a /32 or /128) on an ephemeral port and listens. An address that is not on
// this host fails (EADDRNOTAVAIL), as does anything bind or listen refuses, with the address named.
Result<Listener> listen_on(const net::Cidr& address, int backlog);

}  // namespace ticksplit::cnode
