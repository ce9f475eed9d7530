#include "common/tick_window.hpp"

#include <algorithm>

namespace ticksplit {

TickWindow detection_window(std::int64_t ticktime_ms, std::int64_t intensity) noexcept {
  if (ticktime_ms <= 0 || intensity < 1) return {0, 0};
  // net_kernel ticks every T/I and gives up after I silent intervals; the first of those
  // intervals may have started up to one interval before the silence did, hence +/- T/I.
  const std::int64_t slack = ticktime_ms / intensity;
  return {ticktime_ms - slack, ticktime_ms + slack};
}

const char* window_class_name(WindowClass c) noexcept {
  switch (c) {
    case WindowClass::below_window:
      return "below_window";
    case WindowClass::in_window:
      return "in_window";
    case WindowClass::above_window:
      return "above_window";
  }
  return "in_window";
}

std::optional<WindowClass> window_class_from(std::string_view name) noexcept {
  for (auto c : {WindowClass::below_window, WindowClass::in_window, WindowClass::above_window})
    if (name == window_class_name(c)) return c;
  return std::nullopt;
}

ClassRange class_range(WindowClass c, const TickWindow& w) noexcept {
  switch (c) {
    case WindowClass::below_window: {
      const std::int64_t t = (w.min_ms + w.max_ms) / 2;  // exact: min + max = 2T
      const std::int64_t lo = std::max<std::int64_t>(1, (t + 9) / 10);
      return {lo, std::max(lo, w.min_ms * 9 / 20)};
    }
    case WindowClass::in_window:
      return {w.min_ms, w.max_ms};
    case WindowClass::above_window:
      return {(w.max_ms * 6 + 4) / 5, w.max_ms * 8 / 5};
  }
  return {0, 0};
}

WindowClass classify(std::int64_t ms, const TickWindow& w) noexcept {
  if (ms < w.min_ms) return WindowClass::below_window;
  if (ms <= w.max_ms) return WindowClass::in_window;
  return WindowClass::above_window;
}

}  // namespace ticksplit
