// What the agent knows about one local BEAM node it must join (one per --node): the join
// state machine and its retry backoff.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/watcher.hpp"
#include "common/clock.hpp"

namespace ticksplit::agent {

struct LocalNode {
  enum class State {
    down,        // not connected; retry at `deadline`
    connecting,  // a Dialer is at work; give up at `deadline`
    installing,  // connected, shipping and starting the watcher (at `step`)
    ready,       // watcher running, events flowing
  };
  static constexpr std::chrono::milliseconds first_backoff{100};
  static constexpr std::chrono::milliseconds max_backoff{2000};
  static constexpr std::chrono::milliseconds rpc_timeout{5000};
  static constexpr std::chrono::milliseconds connect_timeout{5000};

  explicit LocalNode(std::string n) : name(std::move(n)) {}

  std::string name;
  State state = State::down;
  int fd = -1;  // the connection, while not down (owned by the agent's connection table)
  watcher::Step step = watcher::Step::check_loaded;
  clock::Monotonic::time_point deadline{};  // next attempt (down), give up (connecting), RPC reply due (installing)
  std::chrono::milliseconds backoff = first_backoff;
  int failures = 0;  // attempts failed since the last successful join
  std::optional<std::int64_t> net_ticktime_ms;
  std::optional<std::int64_t> tick_intensity;
  std::optional<std::int64_t> os_pid;  // the node's emulator process, as its watcher says
  std::optional<ei::Pid> watcher;      // its watcher's pid: where the agent's commands go

  // Back to down; the next attempt waits a backoff that doubles up to max_backoff.
  void failed(clock::Monotonic::time_point now) {
    state = State::down;
    fd = -1;
    step = watcher::Step::check_loaded;
    os_pid.reset();  // a node that comes back is another process
    watcher.reset();
    deadline = now + backoff;
    backoff = std::min(backoff * 2, max_backoff);
    ++failures;
  }
  void joined() {
    state = State::ready;
    backoff = first_backoff;
    failures = 0;
  }
};

}  // namespace ticksplit::agent
