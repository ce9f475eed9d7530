// Clocks: unix time for events and protocol fields, monotonic time for deadlines.
#pragma once

#include <chrono>
#include <cstdint>

namespace ticksplit::clock {

using Monotonic = std::chrono::steady_clock;

inline std::int64_t unix_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace ticksplit::clock
