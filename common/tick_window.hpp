// Distributed Erlang's failure-detection window, and the duration classes around it. With
// T = net_ticktime and I = net_tickintensity, a silent peer is declared down after between
// T - T/I and T + T/I. The same rules, in the same integer arithmetic, are in
// erlang/src/ticksplit_window.erl; tests/data/golden/window_classes.txt pins both
// (docs/tick-window.md says where the numbers come from).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ticksplit {

struct TickWindow {
  std::int64_t min_ms;
  std::int64_t max_ms;
  bool operator==(const TickWindow&) const = default;
};

// ticktime_ms > 0 and intensity >= 1, else the window is empty ({0, 0}).
TickWindow detection_window(std::int64_t ticktime_ms, std::int64_t intensity) noexcept;

// Where a fault's duration falls against the window:
//   below_window: T/10 .. 0.45 x min. TCP's retransmission backoff can keep a link silent for
//                 about twice the drop, so a drop in this range leaves distribution an outage
//                 shorter than min (docs/tick-window.md: 1.0 s drops with T = 2 s still caused
//                 some nodedowns).
//   in_window:    min .. max, where nodedown is a race.
//   above_window: 1.2 x max .. 1.6 x max, where nodedown is certain.
// Bounds are whole ms: lower ones rounded up, upper ones down.
enum class WindowClass { below_window, in_window, above_window };
const char* window_class_name(WindowClass c) noexcept;
std::optional<WindowClass> window_class_from(std::string_view name) noexcept;

struct ClassRange {
  std::int64_t min_ms, max_ms;  // inclusive
  bool operator==(const ClassRange&) const = default;
};
// For a non-empty window (T is its middle).
ClassRange class_range(WindowClass c, const TickWindow& w) noexcept;
// Which side a duration falls on: shorter than min is below (it ends before any node can time
// out), up to max is in, longer is above.
WindowClass classify(std::int64_t ms, const TickWindow& w) noexcept;

}  // namespace ticksplit
