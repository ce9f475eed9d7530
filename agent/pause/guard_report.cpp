// The guard's report lines, parsed for the agent (the protocol is in guard.hpp). Exact: the
// guard is ours, so a line it would not write is refused, not guessed at.
#include <array>
#include <string_view>

#include "agent/pause/decimal.hpp"

#include <limits>
#include "agent/pause/guard.hpp"

namespace ticksplit::agent::pause {
namespace {

constexpr std::array<std::string_view, 3> whys = {"deadline", "request", "signal"};
constexpr std::array<std::string_view, 6> stages = {"setup", "wait", "start", "stop", "exited", "resume"};
constexpr std::uint64_t max_errno = 4095;  // the kernel's errno range

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
  for (const auto w : set)
    if (s == w) return true;
  return false;
}

}  // namespace

std::optional<Report> parse_report_line(std::string_view line) {
  if (line.size() > max_report_line) return std::nullopt;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // Exactly three words, one space between each: word, first, second.
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return std::nullopt;
  const auto word = line.substr(0, sp1);
  const auto first = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto second = line.substr(sp2 + 1);

  // Monotonic times of this boot are far below 2^63 ns (292 years): anything above is not one,
  // and would overflow the signed arithmetic that turns it into unix time.
  constexpr std::uint64_t max_ns = std::numeric_limits<std::int64_t>::max();
  Report r;
  if (word == "stopped") {
    // CLOCK_MONOTONIC is never 0 once booted; the confirmation comes after the stop, or is 0.
    const auto at = parse_decimal(first, max_ns);
    const auto confirm = parse_decimal(second, max_ns);
    if (!at || *at == 0 || !confirm || (*confirm != 0 && *confirm < *at)) return std::nullopt;
    r.kind = Report::Kind::stopped;
    r.at_ns = *at;
  } else if (word == "resumed") {
    const auto at = parse_decimal(first, max_ns);
    if (!at || *at == 0 || !one_of(second, whys)) return std::nullopt;
    r.kind = Report::Kind::resumed;
    r.at_ns = *at;
  } else if (word == "failed") {
    const auto err = parse_decimal(second, max_errno);
    if (!one_of(first, stages) || !err || *err == 0) return std::nullopt;
    r.kind = Report::Kind::failed;
    r.detail = std::string(first) + " " + std::string(second);
    return r;
  } else {
    return std::nullopt;
  }
  r.detail = std::string(second);
  return r;
}

}  // namespace ticksplit::agent::pause
