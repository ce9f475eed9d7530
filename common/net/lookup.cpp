#include "common/net/lookup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>

#include "common/fd.hpp"
#include "common/net/resolve.hpp"

namespace ticksplit::net {

struct Lookup::Shared {
  std::mutex mu;
  std::optional<Resolved> result;
  Fd event;
};

Lookup::Lookup(std::vector<std::string> hosts) : shared_(std::make_shared<Shared>()) {
  shared_->event.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!shared_->event.valid()) throw ConfigError(system_error("eventfd", errno).message);
  std::thread([shared = shared_, hosts = std::move(hosts)] {
    Resolved found;
    for (const auto& host : hosts) found.insert_or_assign(host, resolve_host(host));
    std::lock_guard lock(shared->mu);
    shared->result.emplace(std::move(found));
    const std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(shared->event.get(), &one, sizeof one);
  }).detach();
}

Lookup::~Lookup() = default;  // the thread holds its own reference to the shared state

int Lookup::event_fd() const noexcept { return shared_->event.get(); }

std::optional<Resolved> Lookup::take() {
  std::lock_guard lock(shared_->mu);
  return std::exchange(shared_->result, std::nullopt);
}

}  // namespace ticksplit::net
