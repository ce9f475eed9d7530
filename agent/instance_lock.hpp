// One agent per network namespace: two would replace each other's filters. The lock is an
// abstract unix socket bound to a fixed name: it belongs to the network namespace and goes when
// its process dies, however it dies, so a killed agent cannot leave it behind.
#pragma once

#include <string>

#include "common/fd.hpp"

namespace ticksplit::agent {

class InstanceLock {
 public:
  // Throws ConfigError naming the holder's lock when another process of this namespace holds
  // it (or the socket cannot be made). `name` is the abstract socket's name.
  explicit InstanceLock(const std::string& name = "ticksplit-agent");

 private:
  Fd socket_;
};

}  // namespace ticksplit::agent
