// Durations written by people: "500ms", "30s", "10m", "1h".
#pragma once

#include <cstdint>
#include <string_view>

#include "common/error.hpp"

namespace ticksplit {

// Milliseconds; a unit is required, the value must be positive.
Result<std::int64_t> parse_duration_ms(std::string_view text);

}  // namespace ticksplit
