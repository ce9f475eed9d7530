// The kill guard's report lines, parsed for the agent (the protocol is in guard.hpp). Exact:
// the guard is ours, so a line it would not write is refused, not guessed at.
#include <array>
#include <limits>
#include <string_view>

#include "agent/kill/guard.hpp"
#include "agent/pause/decimal.hpp"

namespace ticksplit::agent::kill {
namespace {

using pause::parse_decimal;

constexpr std::array<std::string_view, 2> whys = {"request", "signal"};
constexpr std::array<std::string_view, 6> stages = {"setup", "wait", "start", "kill", "exit", "spawn"};
constexpr std::uint64_t max_errno = 4095;
// Monotonic times of this boot are far below 2^63 ns: anything above is not one.
constexpr std::uint64_t max_ns = std::numeric_limits<std::int64_t>::max();

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
  for (const auto w : set)
    if (s == w) return true;
  return false;
}

}  // namespace

std::optional<KillReport> parse_kill_report_line(std::string_view line) {
  if (line.size() > max_report_line) return std::nullopt;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // Two or three words, one space between each.
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  const auto word = line.substr(0, sp1);
  const auto rest = line.substr(sp1 + 1);
  const auto sp2 = rest.find(' ');
  const auto first = rest.substr(0, sp2);
  const auto second = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
  const bool two = sp2 == std::string_view::npos;
  if (!two && second.find(' ') != std::string_view::npos) return std::nullopt;

  KillReport r;
  if (word == "killed" || word == "exited") {
    const auto at = parse_decimal(first, max_ns);
    if (!two || !at || *at == 0) return std::nullopt;
    r.kind = word == "killed" ? KillReport::Kind::killed : KillReport::Kind::exited;
    r.at_ns = *at;
  } else if (word == "started") {
    const auto at = parse_decimal(first, max_ns);
    const auto pid = parse_decimal(second, std::numeric_limits<int>::max());
    if (two || !at || *at == 0 || !pid || *pid == 0) return std::nullopt;
    r.kind = KillReport::Kind::started;
    r.at_ns = *at;
    r.pid = static_cast<std::int64_t>(*pid);
  } else if (word == "cancelled") {
    const auto at = parse_decimal(first, max_ns);
    if (two || !at || *at == 0 || !one_of(second, whys)) return std::nullopt;
    r.kind = KillReport::Kind::cancelled;
    r.at_ns = *at;
    r.detail = std::string(second);
  } else if (word == "failed") {
    const auto err = parse_decimal(second, max_errno);
    if (two || !one_of(first, stages) || !err || *err == 0) return std::nullopt;
    r.kind = KillReport::Kind::failed;
    r.detail = std::string(first) + " " + std::string(second);
  } else {
    return std::nullopt;
  }
  return r;
}

}  // namespace ticksplit::agent::kill
