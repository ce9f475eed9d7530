// The duration grammar against the golden vectors the Erlang library reads too
// (tests/data/golden/durations.txt), and what its errors say.
#include <doctest/doctest.h>

#include "common/duration.hpp"
#include "golden.hpp"

using namespace ticksplit;

TEST_CASE("durations: the golden vectors shared with the Erlang library") {
  const auto rows = golden_rows("durations.txt");
  REQUIRE(rows.size() >= 40);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 3);
    const std::string& text = r[0];
    const std::string& where = r[1];
    const std::string& want = r[2];
    const auto got = where == "flag" ? parse_duration_ms(text) : parse_duration_ms(text, std::stoll(where.substr(2)));
    const std::string seen = got ? std::to_string(*got)
                                 : std::string("error:") + duration_error_name(static_cast<DurationError>(got.error().code));
    CHECK_MESSAGE(seen == want, text << " (" << where << ")" << (got ? "" : ": " + got.error().message));
  }
}

TEST_CASE("durations: an error says what was expected; T needs a known T") {
  const auto e = parse_duration_ms("10").error().message;
  CHECK(e.find("bad duration '10'") != std::string::npos);
  CHECK(e.find("ms, s, m, h") != std::string::npos);
  CHECK(e.find("2.9s") != std::string::npos);
  CHECK(e.find(" T ") == std::string::npos);  // not offered where T is unknown
  CHECK(parse_duration_ms("10", 2000).error().message.find("T (net_ticktime)") != std::string::npos);
  CHECK(parse_duration_ms("0s").error().message.find("must be positive") != std::string::npos);
  auto ticks = parse_duration("1.3T", true);
  REQUIRE(ticks);
  CHECK(static_cast<DurationError>(ticks->ms().error().code) == DurationError::no_ticktime);
  CHECK(*ticks->ms(2000) == 2600);
}
