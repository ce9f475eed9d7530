#include "agent/access/name_pattern.hpp"

#include <algorithm>

namespace ticksplit::agent::access {

std::optional<std::string> pattern_problem(std::string_view pattern) {
  if (pattern.empty()) return "an empty pattern matches no node";
  if (pattern.size() > max_pattern_bytes)
    return "longer than " + std::to_string(max_pattern_bytes) + " bytes (a node name's limit)";
  // Node names are printable ASCII without spaces: any other byte could never match, and
  // would only reach the log.
  if (!std::all_of(pattern.begin(), pattern.end(), [](char c) { return c > ' ' && c <= '~'; }))
    return "not printable ASCII without spaces";
  return std::nullopt;
}

bool wildcard_match(std::string_view pattern, std::string_view name) noexcept {
  constexpr auto none = std::string_view::npos;
  std::size_t p = 0, n = 0;
  std::size_t star = none, resume = 0;  // the last star seen, and where its run would end next
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;  // the star matches nothing so far
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != none) {
      // A mismatch after a star: let the star take one more character and retry what follows
      // it. Earlier stars never need revisiting: whatever they could absorb, this one can.
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool name_allowed(const std::vector<std::string>& patterns, std::string_view name) noexcept {
  if (patterns.empty()) return true;
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return wildcard_match(p, name); });
}

}  // namespace ticksplit::agent::access
