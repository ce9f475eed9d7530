#include "common/cnode/dialer.hpp"

#include <sys/eventfd.h>

#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common/cnode/connection.hpp"
#include "common/fd.hpp"

namespace ticksplit::cnode {

struct Dialer::Shared {
  std::mutex mu;
  bool done = false;
  bool abandoned = false;
  int fd = -1;
  Error error{Domain::ei, 0, ""};
  Fd event;
};

Dialer::Dialer(const ei_cnode& ec, const std::string& node, unsigned step_timeout_ms)
    : shared_(std::make_shared<Shared>()) {
  shared_->event.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!shared_->event.valid()) throw ConfigError(system_error("eventfd", errno).message);
  // The thread works on copies: the loop may change or destroy its own meanwhile.
  std::thread([shared = shared_, ec_copy = ec, node, step_timeout_ms]() mutable {
    std::vector<char> name(node.begin(), node.end());
    name.push_back('\0');
    const int fd = ei_connect_tmo(&ec_copy, name.data(), step_timeout_ms);
    Error err = fd < 0 ? ei_error("connecting to " + node) : Error{Domain::ei, 0, ""};
    std::lock_guard lock(shared->mu);
    if (shared->abandoned) {
      if (fd >= 0) ei_close_connection(fd);
      return;
    }
    shared->done = true;
    shared->fd = fd;
    shared->error = std::move(err);
    const std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(shared->event.get(), &one, sizeof one);
  }).detach();
}

Dialer::~Dialer() {
  std::lock_guard lock(shared_->mu);
  shared_->abandoned = true;
  if (shared_->done && shared_->fd >= 0) ei_close_connection(std::exchange(shared_->fd, -1));
}

int Dialer::event_fd() const noexcept { return shared_->event.get(); }

Result<int> Dialer::take() {
  std::lock_guard lock(shared_->mu);
  if (!shared_->done) return Error{Domain::ei, EAGAIN, "still connecting"};
  if (shared_->fd < 0) return shared_->error;
  return std::exchange(shared_->fd, -1);
}

}  // namespace ticksplit::cnode
