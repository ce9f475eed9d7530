// A route-netlink socket for tc requests, through libnl core (libnl-route 3.7 knows
// neither clsact nor cls_bpf). RAII for nl_sock and nl_msg; NLE_* codes become Errors.
#pragma once

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace ticksplit::agent::tc {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using SockPtr = std::unique_ptr<nl_sock, Deleter<nl_sock, nl_socket_free>>;
using MsgPtr = std::unique_ptr<nl_msg, Deleter<nl_msg, nlmsg_free>>;

Error netlink_error(const std::string& context, int nle);

class Netlink {
 public:
  // Throws ConfigError if no route-netlink socket can be opened.
  Netlink();
  // Sends the request and waits for the kernel's acknowledgement; takes the message.
  // Returns the NLE_* code (0 on success) so callers can accept "already gone".
  int request(MsgPtr msg);
  // Sends a tc dump request (RTM_GETQDISC, RTM_GETTFILTER) for `header` and collects the
  // tcmsg of every object the kernel lists. 0 or a negative NLE_* code.
  int dump(int type, const tcmsg& header, std::vector<tcmsg>& out);

 private:
  SockPtr sock_;
};

}  // namespace ticksplit::agent::tc
