// Node names and default agents against the golden vectors the Erlang library reads too.
#include <doctest/doctest.h>

#include "common/node_name.hpp"
#include "golden.hpp"

using namespace ticksplit;

TEST_CASE("node names: the golden vectors shared with the Erlang library") {
  const auto rows = golden_rows("node_names.txt");
  REQUIRE(rows.size() >= 15);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 3);
    CHECK_MESSAGE(valid_node_name(r[0]) == (r[1] == "valid"), r[0]);
    CHECK_MESSAGE(default_agent_of(r[0]).value_or("-") == r[2], r[0]);
  }
  CHECK_FALSE(valid_node_name("app@h ost"));  // (a space cannot be written in the vectors)
  CHECK_FALSE(valid_node_name(std::string("app@h\0st", 8)));
}
