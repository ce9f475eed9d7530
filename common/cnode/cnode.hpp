// The agent's identity as a hidden C-node: ei initialisation, the listening socket, and
// its registration with the local epmd.
#pragma once

#include <ei.h>

#include <memory>
#include <optional>
#include <string>

#include "common/cnode/connection.hpp"
#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net/cidr.hpp"

namespace ticksplit::cnode {

class CNode {
 public:
  // Throws ConfigError if ei cannot be set up or no port can be listened on. Listens on every
  // IPv4 address of the host, or only on `listen` (an address of this host) if given.
  CNode(const std::string& name, const std::string& cookie, const std::optional<net::Cidr>& listen = std::nullopt);

  // Registers with the local epmd. The registration lasts while epmd_fd() stays open.
  Status publish();
  void unpublish() { epmd_.reset(); }
  [[nodiscard]] bool published() const noexcept { return epmd_.valid(); }

  Result<std::unique_ptr<Connection>> connect(const std::string& node, unsigned timeout_ms);

  [[nodiscard]] int listen_fd() const noexcept { return listen_.get(); }
  [[nodiscard]] int epmd_fd() const noexcept { return epmd_.get(); }
  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  ei_cnode* ec() noexcept { return &ec_; }
  // This C-node's own pid, for replies and events addressed to it.
  ei::Pid self();

 private:
  std::string name_;
  ei_cnode ec_{};
  Fd listen_;
  Fd epmd_;
  int port_ = 0;
};

}  // namespace ticksplit::cnode
