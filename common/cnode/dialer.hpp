// Connecting to a node (epmd lookup, TCP connect, handshake) on a thread of its own, so the
// agent's loop never waits for a node that is slow, paused or gone: ei_connect_tmo blocks up
// to its timeout on each of those steps. The thread touches nothing but its copy of the
// C-node and its result; the loop polls event_fd() and takes the result when it is readable.
#pragma once

#include <ei.h>

#include <memory>
#include <string>

#include "common/error.hpp"

namespace ticksplit::cnode {

class Dialer {
 public:
  // Starts connecting at once. Throws (ConfigError, std::system_error) only if no eventfd or
  // thread can be made.
  Dialer(const ei_cnode& ec, const std::string& node, unsigned step_timeout_ms);
  // Abandons an attempt still running: its thread closes whatever it connects.
  ~Dialer();
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;

  [[nodiscard]] int event_fd() const noexcept;
  // Once event_fd() is readable: the connected socket (ei's; close it through ei) or why not;
  // an error with code EAGAIN while it is still at work.
  Result<int> take();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace ticksplit::cnode
