// Which faults and nodedowns lie around an anomaly. A partition shows in a history while it is
// active and for up to one detection window after it healed (the cluster has not yet noticed
// either way), so an anomaly over [from, to] is attributed to the faults whose window overlaps
// it ("active") and to those healed at most window_max before `from` ("healed_before"). Without
// a window (no run_start line, no --window-ms) only active faults are named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "controller/check/operation.hpp"

namespace ticksplit::check {

enum class Relation { active, healed_before };
const char* relation_name(Relation r) noexcept;

struct FaultLink {
  std::size_t fault = 0;  // index in History::faults
  Relation relation = Relation::active;
};

struct Attribution {
  std::vector<FaultLink> faults;
  std::vector<std::size_t> nodedowns;  // indices in History::node_events (nodedowns only)
};

// Without a window, nodedowns are looked for this far on either side of the span.
inline constexpr std::int64_t kNodedownSlackUs = 2'000'000;

Attribution attribute(std::int64_t from_us, std::int64_t to_us, const History& h,
                      std::optional<std::int64_t> window_ms);

// How many operations overlap [start, end + window] of a fault (all keys).
std::size_t ops_around(const Fault& f, const History& h, std::optional<std::int64_t> window_ms);

}  // namespace ticksplit::check
