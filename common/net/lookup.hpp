// Resolving a host name on a thread of its own, so that the agent's loop never waits on a
// resolver (getaddrinfo has no timeout; an unreachable DNS server costs seconds per try).
// The thread touches nothing but its copy of the name and its result; the loop polls
// event_fd() and takes the result when it is readable.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/net/cidr.hpp"

namespace ticksplit::net {

class Lookup {
 public:
  // Starts at once. Throws (ConfigError, std::system_error) if no eventfd or thread can be made.
  explicit Lookup(std::string host);
  ~Lookup();  // an unfinished lookup is abandoned; its thread ends on its own
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;

  [[nodiscard]] int event_fd() const noexcept;
  // The addresses (resolve_host's result) once done; nothing while the thread is at work.
  std::optional<Result<std::vector<Cidr>>> take();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace ticksplit::net
