#include "common/tick_window.hpp"

namespace ticksplit {

TickWindow detection_window(std::int64_t ticktime_ms, std::int64_t intensity) noexcept {
  if (ticktime_ms <= 0 || intensity < 1) return {0, 0};
  // net_kernel ticks every T/I and gives up after I silent intervals; the first of those
  // intervals may have started up to one interval before the silence did, hence +/- T/I.
  const std::int64_t slack = ticktime_ms / intensity;
  return {ticktime_ms - slack, ticktime_ms + slack};
}

}  // namespace ticksplit
