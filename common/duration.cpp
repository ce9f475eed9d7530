#include "common/duration.hpp"

#include <cctype>

namespace ticksplit {

namespace {

// At most this many digits before the point (leading zeros not counted) and after it, so that
// every product below fits in 64 bits: 10^9 h is far beyond any fault, and 10^-9 ms beyond any
// rounding.
constexpr std::size_t kMaxDigits = 9;
// The longest duration anything accepts: a year, in ms; and the longest T it scales by, a day.
constexpr std::int64_t kMaxMs = std::int64_t{366} * 24 * 3600 * 1000;
constexpr std::int64_t kMaxTicktimeMs = std::int64_t{24} * 3600 * 1000;

Error refused(DurationError why, std::string_view text, const std::string& detail) {
  return Error{Domain::config, static_cast<int>(why), "bad duration '" + std::string(text) + "': " + detail};
}

std::string expected(bool ticks_allowed) {
  return std::string("expected a positive decimal number and a unit: ms, s, m, h") +
         (ticks_allowed ? " or T (net_ticktime)" : "") + ", as in 250ms, 2.9s, 1.5m" +
         (ticks_allowed ? ", 0.3T" : "");
}

std::int64_t pow10(int n) {
  std::int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

}  // namespace

const char* duration_error_name(DurationError e) noexcept {
  switch (e) {
    case DurationError::syntax:
      return "syntax";
    case DurationError::zero:
      return "zero";
    case DurationError::too_large:
      return "too_large";
    case DurationError::no_ticktime:
      return "no_ticktime";
  }
  return "syntax";
}

Result<Duration> parse_duration(std::string_view text, bool ticks_allowed) {
  const auto bad = [&] { return refused(DurationError::syntax, text, expected(ticks_allowed)); };
  Duration d;
  d.text = std::string(text);
  std::size_t i = 0;
  const auto digits = [&](std::int64_t& value, int& count) {
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      if (static_cast<std::size_t>(++count) > kMaxDigits) return false;
      value = value * 10 + (text[i++] - '0');
    }
    return count > 0;
  };
  // Leading zeros carry no value, so they do not count toward the whole part's digits.
  const auto first = i;
  while (i < text.size() && text[i] == '0') ++i;
  const bool zeros = i > first;
  int whole_digits = 0;
  if (!digits(d.whole, whole_digits)) {
    if (whole_digits > 0) return refused(DurationError::too_large, text, "too many digits");
    if (!zeros) return bad();
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits(d.fraction, d.fraction_digits))
      return d.fraction_digits > 0 ? refused(DurationError::syntax, text, "more than 9 decimals") : bad();
  }
  const auto unit = text.substr(i);
  if (unit == "ms")
    d.unit = Duration::Unit::ms;
  else if (unit == "s")
    d.unit = Duration::Unit::s;
  else if (unit == "m")
    d.unit = Duration::Unit::m;
  else if (unit == "h")
    d.unit = Duration::Unit::h;
  else if (unit == "T" && ticks_allowed)
    d.unit = Duration::Unit::ticks;
  else
    return bad();
  return d;
}

Result<std::int64_t> Duration::ms(std::optional<std::int64_t> ticktime_ms) const {
  std::int64_t scale = 0;
  switch (unit) {
    case Unit::ms:
      scale = 1;
      break;
    case Unit::s:
      scale = 1000;
      break;
    case Unit::m:
      scale = 60'000;
      break;
    case Unit::h:
      scale = 3'600'000;
      break;
    case Unit::ticks:
      if (!ticktime_ms || *ticktime_ms <= 0 || *ticktime_ms > kMaxTicktimeMs)
        return refused(DurationError::no_ticktime, text, "T (net_ticktime) is not known here");
      scale = *ticktime_ms;
      break;
  }
  // whole and fraction < 10^9 and scale <= a day in ms (8.64 * 10^7): every product below
  // stays under 2 * 10^17, far from 2^63.
  const std::int64_t den = pow10(fraction_digits);
  const std::int64_t ms = whole * scale + (fraction * scale * 2 + den) / (2 * den);  // half up
  if (ms > kMaxMs) return refused(DurationError::too_large, text, "longer than a year");
  if (ms <= 0) return refused(DurationError::zero, text, "rounds to 0 ms; a duration must be positive");
  return ms;
}

Result<std::int64_t> parse_duration_ms(std::string_view text, std::optional<std::int64_t> ticktime_ms) {
  auto d = parse_duration(text, ticktime_ms.has_value());
  if (!d) return d.error();
  return d->ms(ticktime_ms);
}

}  // namespace ticksplit
