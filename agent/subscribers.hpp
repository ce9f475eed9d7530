// Processes that asked for events with {subscribe, Pid}. A subscription ends with
// {unsubscribe, Pid} or when the subscriber's node disconnects from the agent. A node may hold
// at most max_per_node of them (the request handler only lets a node subscribe its own pids),
// so the list stays as small as the connections.
#pragma once

#include <string>
#include <vector>

#include "common/ei/term.hpp"

namespace ticksplit::agent {

class Subscribers {
 public:
  static constexpr std::size_t max_per_node = 64;
  enum class Added { added, already, full };
  // Subscribing twice still sends each event once.
  Added add(const ei::Pid& pid);
  bool remove(const ei::Pid& pid);
  // Drops every subscriber on `node`; returns how many.
  std::size_t remove_node(const std::string& node);
  [[nodiscard]] const std::vector<ei::Pid>& all() const noexcept { return pids_; }

 private:
  std::vector<ei::Pid> pids_;
};

}  // namespace ticksplit::agent
