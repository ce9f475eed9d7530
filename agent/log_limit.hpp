// How many forwarded log lines a node may put in the event stream: the watcher's handler sends
// at most 50 a second (ticksplit_watcher:log/2), but what arrives is input like any other, and
// every event is logged and kept. Past `per_second` in one second a node's lines are held back,
// and counted into the `dropped` of the next line let through.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "common/clock.hpp"

namespace ticksplit::agent {

class LogLimit {
 public:
  explicit LogLimit(std::int64_t per_second) : per_second_(per_second) {}

  // Whether `node`'s line at `now` goes through; if it does, `dropped` (the line's own count) is
  // increased by what was held back since that node's last line through.
  bool admit(const std::string& node, clock::Monotonic::time_point now, std::int64_t& dropped) {
    auto& w = windows_[node];
    if (now - w.start >= std::chrono::seconds(1)) {
      w.start = now;
      w.count = 0;
    }
    if (++w.count > per_second_) {
      ++w.held;
      return false;
    }
    dropped += w.held;
    w.held = 0;
    return true;
  }

 private:
  struct Window {
    clock::Monotonic::time_point start{};
    std::int64_t count = 0;
    std::int64_t held = 0;
  };
  std::int64_t per_second_;
  std::map<std::string, Window> windows_;  // local nodes only: only their own watchers' lines get here
};

}  // namespace ticksplit::agent
