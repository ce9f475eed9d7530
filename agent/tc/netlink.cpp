#include "agent/tc/netlink.hpp"

#include <netlink/errno.h>

namespace ticksplit::agent::tc {

Error netlink_error(const std::string& context, int nle) {
  return Error{Domain::netlink, nle, context + ": " + nl_geterror(nle)};
}

Netlink::Netlink() : sock_(nl_socket_alloc()) {
  if (!sock_) throw ConfigError("cannot allocate a netlink socket");
  if (const int err = nl_connect(sock_.get(), NETLINK_ROUTE); err < 0)
    throw ConfigError(netlink_error("cannot open a route netlink socket", err).message);
}

int Netlink::request(MsgPtr msg) {
  return nl_send_sync(sock_.get(), msg.release());  // frees the message
}

}  // namespace ticksplit::agent::tc
