#include "agent/subscribers.hpp"

#include <algorithm>

namespace ticksplit::agent {

bool Subscribers::add(const ei::Pid& pid) {
  if (std::find(pids_.begin(), pids_.end(), pid) != pids_.end()) return false;
  pids_.push_back(pid);
  return true;
}

bool Subscribers::remove(const ei::Pid& pid) { return std::erase(pids_, pid) > 0; }

std::size_t Subscribers::remove_node(const std::string& node) {
  return std::erase_if(pids_, [&](const ei::Pid& p) { return p.node == node; });
}

}  // namespace ticksplit::agent
