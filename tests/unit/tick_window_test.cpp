#include <doctest/doctest.h>

#include "common/tick_window.hpp"

using ticksplit::detection_window;
using ticksplit::TickWindow;

TEST_CASE("detection window is T +/- T/I") {
  CHECK(detection_window(2000, 4) == TickWindow{1500, 2500});
  CHECK(detection_window(60000, 4) == TickWindow{45000, 75000});  // OTP defaults
  CHECK(detection_window(2000, 20) == TickWindow{1900, 2100});
  CHECK(detection_window(1000, 1) == TickWindow{0, 2000});
  CHECK(detection_window(1000, 3) == TickWindow{667, 1333});  // integer ms, rounded down slack
}

TEST_CASE("nonsense inputs give an empty window") {
  CHECK(detection_window(0, 4) == TickWindow{0, 0});
  CHECK(detection_window(-5, 4) == TickWindow{0, 0});
  CHECK(detection_window(2000, 0) == TickWindow{0, 0});
}
