// One agent per network namespace: the abstract socket lock, without root.
#include <doctest/doctest.h>

#include <unistd.h>

#include <optional>
#include <string>

#include "agent/instance_lock.hpp"
#include "common/error.hpp"

using namespace ticksplit;

TEST_CASE("instance lock: a second holder in the namespace is refused; the lock goes with its holder") {
  const std::string name = "ticksplit-lock-test-" + std::to_string(::getpid());  // not the agent's
  std::optional<agent::InstanceLock> first(std::in_place, name);
  try {
    agent::InstanceLock second(name);
    FAIL("a second lock was granted");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("another ticksplit-agent runs in this network namespace") != std::string::npos);
  }
  first.reset();  // as when the first agent dies, however it dies
  CHECK_NOTHROW(agent::InstanceLock{name});
}
