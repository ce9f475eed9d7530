// Durations as people write them, one grammar for agent flags, schedules and the Erlang
// library (erlang/src/ticksplit_duration.erl), both checked against the same golden vectors
// (tests/data/golden/durations.txt):
//
//   a positive decimal number (digits, optionally '.' and more digits; no sign, no exponent)
//   followed by a unit: ms, s, m, h, or T (net_ticktime) where T is known
//
// "250ms", "2.9s", "1.5m", "0.3T". The value is computed exactly (no floating point) and
// rounded to whole milliseconds, half up; a duration that rounds to 0 ms is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ticksplit {

// Why a duration was refused: Error::code holds one of these (the golden vectors name them).
enum class DurationError { syntax = 1, zero, too_large, no_ticktime };
const char* duration_error_name(DurationError e) noexcept;

// A duration as written, before T is known: a decimal and its unit.
struct Duration {
  enum class Unit { ms, s, m, h, ticks };
  std::int64_t whole = 0;     // digits before the point
  std::int64_t fraction = 0;  // digits after it, as an integer
  int fraction_digits = 0;
  Unit unit = Unit::ms;
  std::string text;  // as written

  // In whole milliseconds; `ticktime_ms` is T, needed for the unit T.
  [[nodiscard]] Result<std::int64_t> ms(std::optional<std::int64_t> ticktime_ms = std::nullopt) const;
};

// The grammar above; `ticks_allowed` says whether T may be the unit (not in agent flags).
Result<Duration> parse_duration(std::string_view text, bool ticks_allowed);

// parse_duration(text, ticks_allowed) then ms(ticktime_ms).
Result<std::int64_t> parse_duration_ms(std::string_view text, std::optional<std::int64_t> ticktime_ms = std::nullopt);

}  // namespace ticksplit
