// --allow patterns over node names: `*` matches any run of characters (also none), every other
// character only itself, over the whole name. A name is only claimed in the handshake (the
// cookie proves the caller may connect, not who it is), so this keeps honest-but-wrong callers
// out, not a holder of the cookie (README, "Who may command an agent").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticksplit::agent::access {

constexpr std::size_t max_patterns = 64;        // --allow given at most this often
constexpr std::size_t max_pattern_bytes = 255;  // a node name's own bound (valid_node_name)

// Why `pattern` cannot be an --allow pattern (empty, too long, not printable ASCII without
// spaces), or nothing if it can.
std::optional<std::string> pattern_problem(std::string_view pattern);

// Whether `name` matches `pattern` as a whole. Greedy star with one backtrack point (the last
// star seen): a later star supersedes an earlier one, so the work is at most
// |pattern| x |name| steps, never exponential (`*a*a*a*a*b` against a long run of `a`s).
bool wildcard_match(std::string_view pattern, std::string_view name) noexcept;

// Whether a node of this name may be served: no patterns (no --allow) allow every name.
bool name_allowed(const std::vector<std::string>& patterns, std::string_view name) noexcept;

}  // namespace ticksplit::agent::access
