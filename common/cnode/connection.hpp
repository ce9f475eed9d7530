// One distribution connection of the C-node (to a local BEAM node, or from any node that
// connected to us), owned: the destructor closes it through ei.
#pragma once

#include <ei.h>

#include <string>
#include <utility>

#include "common/ei/term.hpp"
#include "common/ei/xbuff.hpp"
#include "common/error.hpp"

namespace ticksplit::cnode {

class Connection {
 public:
  Connection(int fd, std::string node) : fd_(fd), node_(std::move(node)) {}
  Connection(Connection&& o) noexcept : fd_(std::exchange(o.fd_, -1)), node_(std::move(o.node_)) {}
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd_ >= 0) ei_close_connection(fd_);
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] const std::string& node() const noexcept { return node_; }

  enum class Got { tick, message, nothing };
  // Reads one message. A tick is answered inside ei. An error means the connection is
  // unusable and must be dropped.
  Result<Got> receive(erlang_msg& msg, ei::XBuff& payload, unsigned timeout_ms);

  Status send(const ei::Pid& to, const ei::Term& message, unsigned timeout_ms);
  Status send(const ei::Pid& to, const ei::XBuff& encoded, unsigned timeout_ms);
  // To a registered name on the connected node, e.g. gen_server calls to {ticksplit, Agent}.
  Status reg_send(ei_cnode* ec, const char* name, const ei::Term& message, unsigned timeout_ms);
  // rex call {call, Mod, Fun, Args, user}; the reply arrives later as {rex, Reply}.
  Status rpc(ei_cnode* ec, const char* mod, const char* fun, const ei::Term& args);

 private:
  int fd_;
  std::string node_;
};

// erl_errno as an Error, with context.
Error ei_error(const std::string& context);

}  // namespace ticksplit::cnode
