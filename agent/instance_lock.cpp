#include "agent/instance_lock.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "common/error.hpp"

namespace ticksplit::agent {

InstanceLock::InstanceLock(const std::string& name) : socket_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (!socket_.valid()) throw ConfigError(std::string("cannot create a unix socket: ") + std::strerror(errno));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof sa.sun_path) throw ConfigError("instance lock name too long: " + name);
  std::memcpy(sa.sun_path + 1, name.data(), name.size());  // sun_path[0] stays 0: abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
    if (errno == EADDRINUSE)
      throw ConfigError("another ticksplit-agent runs in this network namespace (it holds @" + name +
                        "); one agent per host");
    throw ConfigError("cannot bind @" + name + ": " + std::strerror(errno));
  }
}

}  // namespace ticksplit::agent
