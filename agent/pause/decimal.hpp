// Strict decimal numbers for the guard's command line and its report lines: digits only, no
// sign, no leading zero (but "0" itself), no overflow. Both sides are ours (std::to_string,
// "%llu"), so any other spelling is a bug or hostile input, refused rather than guessed at.
// Header-only: the guard executable links nothing of ours.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace ticksplit::agent::pause {

inline std::optional<std::uint64_t> parse_decimal(std::string_view s,
                                                  std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace ticksplit::agent::pause
