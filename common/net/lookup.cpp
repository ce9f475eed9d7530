#include "common/net/lookup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "common/fd.hpp"
#include "common/net/resolve.hpp"

namespace ticksplit::net {

namespace {
std::atomic<std::size_t> threads_alive{0};
}  // namespace

struct Lookup::Shared {
  std::mutex mu;
  Resolved found;  // grows name by name
  bool done = false;
  Fd event;
};

Lookup::Lookup(std::vector<std::string> hosts, Resolver resolve) : shared_(std::make_shared<Shared>()) {
  if (!resolve) resolve = resolve_host;
  // Counted before the thread exists and uncounted by the thread as it ends, so abandoned
  // lookups count until their resolver gives up.
  if (threads_alive.fetch_add(1) >= max_threads) {
    threads_alive.fetch_sub(1);
    throw ConfigError(std::to_string(max_threads) + " lookups are still waiting for the resolver");
  }
  try {
    shared_->event.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!shared_->event.valid()) throw ConfigError(system_error("eventfd", errno).message);
    std::thread([shared = shared_, hosts = std::move(hosts), resolve = std::move(resolve)] {
      for (const auto& host : hosts) {
        auto result = resolve(host);
        std::lock_guard lock(shared->mu);
        shared->found.insert_or_assign(host, std::move(result));
      }
      {
        std::lock_guard lock(shared->mu);
        shared->done = true;
      }
      const std::uint64_t one = 1;
      [[maybe_unused]] auto w = ::write(shared->event.get(), &one, sizeof one);
      threads_alive.fetch_sub(1);
    }).detach();
  } catch (const std::system_error& e) {
    threads_alive.fetch_sub(1);
    throw ConfigError(std::string("cannot start a lookup thread: ") + e.what());
  } catch (...) {
    threads_alive.fetch_sub(1);
    throw;
  }
}

Lookup::~Lookup() = default;  // the thread holds its own reference to the shared state

int Lookup::event_fd() const noexcept { return shared_->event.get(); }

std::optional<Resolved> Lookup::take() {
  std::lock_guard lock(shared_->mu);
  if (!shared_->done) return std::nullopt;
  return std::move(shared_->found);
}

Resolved Lookup::so_far() {
  std::lock_guard lock(shared_->mu);
  return shared_->found;
}

std::size_t Lookup::threads() noexcept { return threads_alive.load(); }

}  // namespace ticksplit::net
