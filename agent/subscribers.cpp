#include "agent/subscribers.hpp"

#include <algorithm>

namespace ticksplit::agent {

Subscribers::Added Subscribers::add(const ei::Pid& pid) {
  if (std::find(pids_.begin(), pids_.end(), pid) != pids_.end()) return Added::already;
  const auto mine = std::count_if(pids_.begin(), pids_.end(), [&](const ei::Pid& p) { return p.node == pid.node; });
  if (static_cast<std::size_t>(mine) >= max_per_node) return Added::full;
  pids_.push_back(pid);
  return Added::added;
}

bool Subscribers::remove(const ei::Pid& pid) { return std::erase(pids_, pid) > 0; }

std::size_t Subscribers::remove_node(const std::string& node) {
  return std::erase_if(pids_, [&](const ei::Pid& p) { return p.node == node; });
}

}  // namespace ticksplit::agent
