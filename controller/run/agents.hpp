// What the runner sees of the agents, and of time: calls to all agents at once, the events of
// its subscriptions, the connections that broke, and the clock it lives by. The real one is a
// hidden C-node on the real clock (run/cnode_agents.*); the runner's unit tests use a scripted
// fake whose clock moves only when the runner waits (tests/unit/fake_agents.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"

namespace ticksplit::ctl {

struct AgentEvent {
  std::string agent;
  proto::Event event;
};

// How long ticksplit-ctl waits for an agent's reply to a call (status, subscribe, partition,
// heal): an agent answers in well under a millisecond; one that does not is lost.
inline constexpr unsigned call_timeout_ms = 2000;

class Agents {
 public:
  Agents() = default;
  Agents(const Agents&) = delete;
  Agents& operator=(const Agents&) = delete;
  virtual ~Agents() = default;

  // The pid events are sent to (the runner subscribes it).
  virtual ei::Pid self() = 0;
  // One request per agent, all sent before any reply is awaited. A missing reply after
  // timeout_ms is an Error for that agent.
  virtual std::map<std::string, Result<ei::Term>> call_all(const std::vector<std::pair<std::string, ei::Term>>& requests,
                                                           unsigned timeout_ms) = 0;
  // Waits up to wait_ms for events (or until `wake_fd`, if given, is readable); returns every
  // event read.
  virtual std::vector<AgentEvent> events(int wait_ms, int wake_fd) = 0;
  // Agents whose connection broke, with why; cleared by reading.
  virtual std::vector<std::pair<std::string, std::string>> take_lost() = 0;
  // Unix µs: the time the run is recorded in.
  virtual std::int64_t now_us() = 0;
};

}  // namespace ticksplit::ctl
