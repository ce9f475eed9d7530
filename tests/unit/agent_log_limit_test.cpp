// The agent's own bound on forwarded log lines: per node and second, what is held back counted
// into the next line through, nodes apart.
#include <doctest/doctest.h>

#include "agent/log_limit.hpp"

using ticksplit::agent::LogLimit;
using namespace std::chrono_literals;

TEST_CASE("log limit: per node and second; what is held back is counted into the next line through") {
  LogLimit limit(3);
  const auto t0 = ticksplit::clock::Monotonic::time_point{} + 1h;
  std::int64_t dropped = 0;
  for (int i = 0; i < 3; ++i) CHECK(limit.admit("a@h", t0 + 10ms * i, dropped));
  CHECK_FALSE(limit.admit("a@h", t0 + 100ms, dropped));
  CHECK_FALSE(limit.admit("a@h", t0 + 999ms, dropped));
  std::int64_t other = 0;
  CHECK(limit.admit("b@h", t0 + 999ms, other));  // another node has its own budget
  CHECK(other == 0);
  std::int64_t next = 5;  // the handler's own count
  CHECK(limit.admit("a@h", t0 + 1000ms, next));
  CHECK(next == 7);  // plus the 2 held back here
  std::int64_t after = 0;
  CHECK(limit.admit("a@h", t0 + 1001ms, after));
  CHECK(after == 0);  // counted once
}
