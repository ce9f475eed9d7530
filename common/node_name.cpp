#include "common/node_name.hpp"

#include <algorithm>

namespace ticksplit {

bool valid_node_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > max_node_name) return false;
  const auto at = n.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == n.size() || n.find('@', at + 1) != std::string_view::npos)
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return c > ' ' && c < 127; });
}

std::optional<std::string> default_agent_of(std::string_view node) {
  if (!valid_node_name(node)) return std::nullopt;
  auto agent = std::string(agent_registered_name) + "@" + std::string(node.substr(node.find('@') + 1));
  if (!valid_node_name(agent)) return std::nullopt;
  return agent;
}

}  // namespace ticksplit
