// Distributed Erlang's failure-detection window. With T = net_ticktime and
// I = net_tickintensity, a silent peer is declared down after between T - T/I and T + T/I.
#pragma once

#include <cstdint>

namespace ticksplit {

struct TickWindow {
  std::int64_t min_ms;
  std::int64_t max_ms;
  bool operator==(const TickWindow&) const = default;
};

// ticktime_ms > 0 and intensity >= 1, else the window is empty ({0, 0}).
TickWindow detection_window(std::int64_t ticktime_ms, std::int64_t intensity) noexcept;

}  // namespace ticksplit
