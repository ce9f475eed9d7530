// Distributed Erlang's failure-detection window, and the duration classes around it. With
// T = net_ticktime and I = net_tickintensity, a silent peer is declared down after between
// T - T/I and T + T/I. The same rules, in the same integer arithmetic, are in
// erlang/src/ticksplit_window.erl; tests/data/golden/window_classes.txt pins both
// (docs/tick-window.md says where the numbers come from).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

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

// Call-timeout classes: durations sized against a gen_server:call timeout C (default 5000 ms,
// gen_server's) instead of the window, for faults that make calls in flight late but not
// nodes down (docs/tick-window.md, "Call-timeout classes"). TCP's backoff stretches a drop as
// it does for ticks, so the same factors apply:
//   below_call_timeout:  C/10 .. 0.45 x C: calls in flight complete late but in time.
//   around_call_timeout: C/2 .. C: calls in flight straddle the timeout (a race).
//   above_call_timeout:  1.2 x C .. 1.6 x C: a call in flight at the start times out.
// They only make sense while the drop stays below the window: a class whose longest drop is
// above below_window's longest (0.45 x Min) is refused. Bounds as for the window classes.
// The same rules are in erlang/src/ticksplit_window.erl; tests/data/golden/call_classes.txt
// pins both.
enum class CallClass { below_call_timeout, around_call_timeout, above_call_timeout };
const char* call_class_name(CallClass c) noexcept;
std::optional<CallClass> call_class_from(std::string_view name) noexcept;

inline constexpr std::int64_t default_call_timeout_ms = 5000;
// Below this, TCP's 200 ms minimum retransmission timeout is a fifth of the timeout and more,
// and the below class's promise (late but in time) no longer holds.
inline constexpr std::int64_t min_call_timeout_ms = 1000;
inline constexpr std::int64_t max_call_timeout_ms = 3'600'000;

struct CallClassError {
  enum class Kind { call_timeout_out_of_range, longer_than_window };
  Kind kind = Kind::longer_than_window;
  std::int64_t longest_ms = 0;  // longer_than_window: the class's longest drop
  std::int64_t limit_ms = 0;    // longer_than_window: 0.45 x Min
  [[nodiscard]] std::string message(CallClass c, std::int64_t call_timeout_ms) const;
  bool operator==(const CallClassError&) const = default;
};
// The range of a class for C and the window (non-empty), or why it cannot be used.
std::variant<ClassRange, CallClassError> call_class_range(CallClass c, std::int64_t call_timeout_ms,
                                                          const TickWindow& w) noexcept;

}  // namespace ticksplit
