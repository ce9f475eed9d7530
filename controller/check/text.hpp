// How the checker shows values and figures to people: one place for the cut and the units,
// used by error messages, anomaly details, the text report and the benchmark.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace ticksplit::check {

// A value's compact JSON, cut to at most `max` characters ("..." included), never inside a
// UTF-8 character (a cut one would make the report itself invalid JSON).
std::string shown(const nlohmann::json& v, std::size_t max = 60);

// 950, 12.3 k (from 10,000), 4.5 M, 1.2 G.
std::string format_count(std::uint64_t n);

}  // namespace ticksplit::check
