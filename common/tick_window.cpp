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

const char* call_class_name(CallClass c) noexcept {
  switch (c) {
    case CallClass::below_call_timeout:
      return "below_call_timeout";
    case CallClass::around_call_timeout:
      return "around_call_timeout";
    case CallClass::above_call_timeout:
      return "above_call_timeout";
  }
  return "around_call_timeout";
}

std::optional<CallClass> call_class_from(std::string_view name) noexcept {
  for (auto c : {CallClass::below_call_timeout, CallClass::around_call_timeout, CallClass::above_call_timeout})
    if (name == call_class_name(c)) return c;
  return std::nullopt;
}

std::string CallClassError::message(CallClass c, std::int64_t call_timeout_ms) const {
  if (kind == Kind::call_timeout_out_of_range)
    return "call_timeout " + std::to_string(call_timeout_ms) + " ms is out of range (" +
           std::to_string(min_call_timeout_ms) + " ms to " + std::to_string(max_call_timeout_ms) +
           " ms; below 1 s TCP's 200 ms minimum retransmission timeout blurs the classes)";
  return std::string(call_class_name(c)) + " with call_timeout " + std::to_string(call_timeout_ms) +
         " ms draws drops up to " + std::to_string(longest_ms) + " ms, but with this net_ticktime a drop longer than " +
         std::to_string(limit_ms) + " ms (below_window's longest) may take nodes down: raise net_ticktime or lower call_timeout";
}

std::variant<ClassRange, CallClassError> call_class_range(CallClass c, std::int64_t call_timeout_ms,
                                                          const TickWindow& w) noexcept {
  const std::int64_t t = call_timeout_ms;
  if (t < min_call_timeout_ms || t > max_call_timeout_ms)
    return CallClassError{CallClassError::Kind::call_timeout_out_of_range};
  ClassRange r{0, 0};
  switch (c) {
    case CallClass::below_call_timeout:
      r = {(t + 9) / 10, t * 9 / 20};
      break;
    case CallClass::around_call_timeout:
      r = {(t + 1) / 2, t};
      break;
    case CallClass::above_call_timeout:
      r = {(t * 6 + 4) / 5, t * 8 / 5};
      break;
  }
  const std::int64_t limit = class_range(WindowClass::below_window, w).max_ms;
  if (r.max_ms > limit) return CallClassError{CallClassError::Kind::longer_than_window, r.max_ms, limit};
  return r;
}

}  // namespace ticksplit
