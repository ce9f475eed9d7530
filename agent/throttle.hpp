// Rate-limited warnings: a peer that can make the agent warn must not be able to fill its
// log. The first warning of a period is written, the rest are counted and the count rides on
// the next one written.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

#include "common/clock.hpp"

namespace ticksplit::agent {

class Throttle {
 public:
  explicit Throttle(std::chrono::milliseconds period) : period_(period) {}

  // How many were held back since the last one written, if this one may be written.
  std::optional<std::size_t> allow(clock::Monotonic::time_point now) {
    if (written_ && now - *written_ < period_) {
      ++held_;
      return std::nullopt;
    }
    written_ = now;
    return std::exchange(held_, 0);
  }

 private:
  std::chrono::milliseconds period_;
  std::optional<clock::Monotonic::time_point> written_;
  std::size_t held_ = 0;
};

}  // namespace ticksplit::agent
