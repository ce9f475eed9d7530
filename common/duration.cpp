#include "common/duration.hpp"

#include <charconv>
#include <string>

namespace ticksplit {

Result<std::int64_t> parse_duration_ms(std::string_view text) {
  const auto bad = [&](const char* why) {
    return Error{Domain::config, 0, "bad duration '" + std::string(text) + "': " + why};
  };
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end == text.data()) return bad("expected a number followed by ms, s, m or h");
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else
    return bad("unit must be ms, s, m or h");
  if (n <= 0) return bad("must be positive");
  if (n > INT64_MAX / scale / 1000) return bad("too large");
  return n * scale;
}

}  // namespace ticksplit
