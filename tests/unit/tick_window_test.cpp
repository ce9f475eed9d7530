#include <doctest/doctest.h>

#include "common/tick_window.hpp"
#include "golden.hpp"

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

// The rules the Erlang library shares (ticksplit_window.erl reads the same file).
TEST_CASE("window classes: the golden vectors shared with the Erlang library") {
  using namespace ticksplit;
  const auto rows = golden_rows("window_classes.txt");
  int ranges = 0, classified = 0;
  for (const auto& r : rows) {
    const auto n = [&](std::size_t i) { return std::stoll(r.at(i)); };
    const auto w = detection_window(n(1), n(2));
    if (r[0] == "range") {
      ++ranges;
      CHECK(w == TickWindow{n(3), n(4)});
      CHECK(class_range(WindowClass::below_window, w) == ClassRange{n(5), n(6)});
      CHECK(class_range(WindowClass::in_window, w) == ClassRange{n(7), n(8)});
      CHECK(class_range(WindowClass::above_window, w) == ClassRange{n(9), n(10)});
    } else {
      ++classified;
      CHECK_MESSAGE(window_class_name(classify(n(3), w)) == r.at(4), r.at(1) << " " << r.at(2) << " " << r.at(3));
    }
  }
  CHECK(ranges == 28);
  CHECK(classified == 140);
}

TEST_CASE("window class names both ways") {
  using namespace ticksplit;
  for (auto c : {WindowClass::below_window, WindowClass::in_window, WindowClass::above_window})
    CHECK(window_class_from(window_class_name(c)) == c);
  CHECK_FALSE(window_class_from("below"));
}

TEST_CASE("call-timeout classes: the golden vectors shared with the Erlang library") {
  using namespace ticksplit;
  int rows = 0, refused = 0;
  for (const auto& r : golden_rows("call_classes.txt")) {
    const auto n = [&](std::size_t i) { return std::stoll(r.at(i)); };
    const auto cls = call_class_from(r.at(4));
    REQUIRE(cls);
    const auto got = call_class_range(*cls, n(3), detection_window(n(1), n(2)));
    const auto row = r.at(1) + " " + r.at(2) + " " + r.at(3) + " " + r.at(4);
    ++rows;
    if (r.at(5) == "out_of_range") {
      ++refused;
      const auto* e = std::get_if<CallClassError>(&got);
      CHECK_MESSAGE((e && e->kind == CallClassError::Kind::call_timeout_out_of_range), row);
    } else if (r.at(5) == "too_long") {
      ++refused;
      const auto* e = std::get_if<CallClassError>(&got);
      CHECK_MESSAGE((e && *e == CallClassError{CallClassError::Kind::longer_than_window, n(6), n(7)}), row);
    } else {
      const auto* range = std::get_if<ClassRange>(&got);
      CHECK_MESSAGE((range && *range == ClassRange{n(5), n(6)}), row);
    }
  }
  CHECK(rows == 540);
  CHECK(refused > 100);
  CHECK(refused < rows);
}

TEST_CASE("call-timeout class names, and why a class is refused") {
  using namespace ticksplit;
  for (auto c : {CallClass::below_call_timeout, CallClass::around_call_timeout, CallClass::above_call_timeout})
    CHECK(call_class_from(call_class_name(c)) == c);
  CHECK_FALSE(call_class_from("above_window"));
  // T = 2 s: below_window ends at 675 ms, so gen_server's default 5 s is far too long.
  const auto r = call_class_range(CallClass::above_call_timeout, default_call_timeout_ms, detection_window(2000, 4));
  const auto& e = std::get<CallClassError>(r);
  CHECK(e.longest_ms == 8000);
  CHECK(e.limit_ms == 675);
  CHECK(e.message(CallClass::above_call_timeout, 5000).find("raise net_ticktime or lower call_timeout") != std::string::npos);
}
