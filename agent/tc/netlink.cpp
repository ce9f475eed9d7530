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

int Netlink::dump(int type, const tcmsg& header, std::vector<tcmsg>& out) {
  tcmsg body = header;
  if (const int err = nl_send_simple(sock_.get(), type, NLM_F_DUMP, &body, sizeof body); err < 0) return err;
  using CbPtr = std::unique_ptr<nl_cb, Deleter<nl_cb, nl_cb_put>>;
  CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return -NLE_NOMEM;
  nl_cb_set(
      cb.get(), NL_CB_VALID, NL_CB_CUSTOM,
      [](nl_msg* msg, void* arg) {
        const nlmsghdr* h = nlmsg_hdr(msg);
        if (nlmsg_datalen(h) >= static_cast<int>(sizeof(tcmsg)))
          static_cast<std::vector<tcmsg>*>(arg)->push_back(*static_cast<const tcmsg*>(nlmsg_data(h)));
        return static_cast<int>(NL_OK);
      },
      &out);
  const int err = nl_recvmsgs(sock_.get(), cb.get());
  return err < 0 ? err : 0;
}

}  // namespace ticksplit::agent::tc
