// Processes that asked for events with {subscribe, Pid}. A subscription ends with
// {unsubscribe, Pid} or when the subscriber's node disconnects from the agent.
#pragma once

#include <string>
#include <vector>

#include "common/ei/term.hpp"

namespace ticksplit::agent {

class Subscribers {
 public:
  // false if already subscribed (subscribing twice still sends each event once)
  bool add(const ei::Pid& pid);
  bool remove(const ei::Pid& pid);
  // Drops every subscriber on `node`; returns how many.
  std::size_t remove_node(const std::string& node);
  [[nodiscard]] const std::vector<ei::Pid>& all() const noexcept { return pids_; }

 private:
  std::vector<ei::Pid> pids_;
};

}  // namespace ticksplit::agent
