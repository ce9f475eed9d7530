#include "common/cnode/cnode.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>
#include <vector>

#include "common/cnode/listen.hpp"
#include "common/ei/native.hpp"

namespace ticksplit::cnode {

CNode::CNode(const std::string& name, const std::string& cookie, const std::optional<net::Cidr>& listen)
    : name_(name) {
  if (ei_init() != 0) throw ConfigError("ei_init failed");
  const auto at = name.find('@');
  std::string alive = name.substr(0, at), host = name.substr(at + 1);
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<char> c(cookie.begin(), cookie.end());
  c.push_back('\0');
  // A creation that differs from the previous run's keeps stale pids and refs from
  // matching this incarnation; epmd may assign another on publish.
  const auto creation = static_cast<short>((std::time(nullptr) & 0x7fff) | 1);
  if (ei_connect_xinit(&ec_, host.c_str(), alive.c_str(), name.c_str(), &addr, c.data(), creation) < 0)
    throw ConfigError("cannot initialise C-node " + name + ": " + ei_error("ei_connect_xinit").message);
  std::fill(c.begin(), c.end(), '\0');
  // A deep backlog: a flood of clients must reach accept4 (where the agent drops them by its
  // own rules), not die in the kernel's queue, where a dropped final ACK leaves a silent client
  // believing it is connected while the agent never sees it (seen with 50 at a backlog of 16).
  if (listen) {
    // The socket is only ever accept4ed by the agent, which does the handshake itself, so ei
    // need not know it: epmd learns the port from publish(), outgoing connections (ei_connect)
    // do not use it.
    auto l = listen_on(*listen, SOMAXCONN);
    if (!l) throw ConfigError(l.error().message);
    listen_ = std::move(l->fd);
    port_ = l->port;
    return;
  }
  const int fd = ei_listen(&ec_, &port_, SOMAXCONN);
  if (fd < 0) throw ConfigError("cannot listen for distribution connections: " + ei_error("ei_listen").message);
  listen_.reset(fd);
}

Status CNode::publish() {
  const int fd = ei_publish_tmo(&ec_, port_, 2000);
  if (fd < 0)
    return ei_error("cannot register " + name_ +
                    " with the local epmd (is epmd running? is another agent using this name?)");
  epmd_.reset(fd);
  return success();
}

Result<std::unique_ptr<Connection>> CNode::connect(const std::string& node, unsigned timeout_ms) {
  std::vector<char> n(node.begin(), node.end());
  n.push_back('\0');
  const int fd = ei_connect_tmo(&ec_, n.data(), timeout_ms);
  if (fd < 0) return ei_error("connecting to " + node);
  return std::make_unique<Connection>(fd, node);
}

ei::Pid CNode::self() { return ei::from_erlang_pid(*ei_self(&ec_)); }

}  // namespace ticksplit::cnode
