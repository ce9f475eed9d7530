#include "controller/check/attribute.hpp"

#include <algorithm>
#include <limits>

namespace ticksplit::check {
namespace {

// Saturating a + b and a - b for a window b in [0, kMaxWindowMs µs] and times that may be
// kNever (or anything a history wrote).
std::int64_t plus(std::int64_t a, std::int64_t b) { return a > kNever - b ? kNever : a + b; }
std::int64_t minus(std::int64_t a, std::int64_t b) {
  return a < std::numeric_limits<std::int64_t>::min() + b ? std::numeric_limits<std::int64_t>::min() : a - b;
}

bool overlaps(std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1) { return a0 <= b1 && b0 <= a1; }

}  // namespace

const char* relation_name(Relation r) noexcept {
  switch (r) {
    case Relation::active:
      return "active";
    case Relation::healed_before:
      return "healed_before";
  }
  return "?";
}

Attribution attribute(std::int64_t from_us, std::int64_t to_us, const History& h,
                      std::optional<std::int64_t> window_ms) {
  Attribution a;
  to_us = std::max(from_us, to_us);
  const std::int64_t window_us = window_ms.value_or(0) * 1000;
  for (std::size_t i = 0; i < h.faults.size(); ++i) {
    const auto& f = h.faults[i];
    if (overlaps(f.start_us, f.end_us, from_us, to_us))
      a.faults.push_back({i, Relation::active});
    else if (window_ms && f.end_us <= from_us && f.end_us >= minus(from_us, window_us))
      a.faults.push_back({i, Relation::healed_before});
  }
  const auto lo = minus(from_us, window_ms ? window_us : kNodedownSlackUs);
  const auto hi = window_ms ? to_us : plus(to_us, kNodedownSlackUs);
  for (std::size_t i = 0; i < h.node_events.size(); ++i) {
    const auto& e = h.node_events[i];
    if (e.down && e.time_us >= lo && e.time_us <= hi) a.nodedowns.push_back(i);
  }
  return a;
}

std::size_t ops_around(const Fault& f, const History& h, std::optional<std::int64_t> window_ms) {
  const auto end = plus(f.end_us, window_ms.value_or(0) * 1000);
  return static_cast<std::size_t>(std::count_if(h.ops.begin(), h.ops.end(), [&](const Operation& op) {
    return overlaps(op.call_us, op.return_us, f.start_us, end);
  }));
}

}  // namespace ticksplit::check
