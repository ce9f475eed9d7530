#include <doctest/doctest.h>

#include "agent/throttle.hpp"

using namespace ticksplit;
using namespace std::chrono_literals;

TEST_CASE("a throttle writes one warning per period and counts the rest") {
  agent::Throttle t(10s);
  const auto t0 = clock::Monotonic::time_point(100s);
  CHECK(t.allow(t0) == std::size_t{0});
  for (int i = 0; i < 5; ++i) CHECK(!t.allow(t0 + 1s));
  CHECK(!t.allow(t0 + 9999ms));
  CHECK(t.allow(t0 + 10s) == std::size_t{6});
  CHECK(t.allow(t0 + 20s) == std::size_t{0});
}
