// Reading ticksplit histories back for `ticksplit-ctl report` (and `run --report`): JSON Lines
// files (docs/history.md) merged into one time-ordered list. A history a crash cut short is read
// as the valid prefix it is: an unparseable last line is left out and said so, as is a line
// without an integer time_us (1970..2096) or a kind, or nested deeper than check's readers allow.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ticksplit::ctl {

// Unix µs up to 2096: every time difference, in µs or ns, then fits in 64 bits.
inline constexpr std::int64_t max_time_us = 4'000'000'000'000'000;

struct HistoryLines {
  std::vector<nlohmann::json> lines;  // stable-sorted by time_us: ties keep file, then line, order
  std::vector<std::string> problems;  // "FILE:LINE: why", for lines left out
};

// Throws ConfigError if a file cannot be opened; a malformed line other than the last of its
// file is refused too (ConfigError naming FILE:LINE): only a crash cuts a history short.
HistoryLines read_history_lines(const std::vector<std::string>& files);
// The same from text already in memory (tests), `name` standing for the file.
HistoryLines parse_history_lines(const std::string& text, const std::string& name);

}  // namespace ticksplit::ctl
