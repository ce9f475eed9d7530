// Resolving host names on a thread of its own, so that the agent's loop never waits on a
// resolver (getaddrinfo has no timeout; an unreachable DNS server costs seconds per try).
// The thread touches nothing but its copy of the names and its result; the loop polls
// event_fd() and takes the result when it is readable, or abandons the lookup at a deadline
// of its own (the thread then ends on its own, when the resolver gives up).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/net/cidr.hpp"

namespace ticksplit::net {

// Each name looked up, with resolve_host's result for it.
using Resolved = std::map<std::string, Result<std::vector<Cidr>>>;
using Resolver = std::function<Result<std::vector<Cidr>>(const std::string& host)>;

class Lookup {
 public:
  // Lookup threads alive at once in this process, abandoned ones included (they live until
  // their resolver gives up, up to timeout x attempts x servers per name): a resolver that
  // never answers cannot pile up threads and eventfds.
  static constexpr std::size_t max_threads = 32;

  // Starts at once; the names are resolved one after the other (by `resolve`: resolve_host,
  // or a fake in unit tests). Throws ConfigError if max_threads are alive, or no eventfd or
  // thread can be made.
  explicit Lookup(std::vector<std::string> hosts, Resolver resolve = nullptr);
  ~Lookup();  // an unfinished lookup is abandoned; its thread ends on its own
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;

  [[nodiscard]] int event_fd() const noexcept;
  // Every name's result once all are done; nothing while the thread is at work.
  std::optional<Resolved> take();
  // The names resolved so far (for a caller that stops waiting).
  Resolved so_far();
  [[nodiscard]] static std::size_t threads() noexcept;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace ticksplit::net
