#include <doctest/doctest.h>

#include "agent/helper_path.hpp"

using ticksplit::agent::helper_candidates;

TEST_CASE("a helper is looked for next to the agent, then in the install's libexec") {
  const auto c = helper_candidates("/usr/bin/ticksplit-agent", "../libexec/ticksplit", "ticksplit-pause-guard");
  CHECK(c ==
        std::vector<std::string>{"/usr/bin/ticksplit-pause-guard", "/usr/libexec/ticksplit/ticksplit-pause-guard"});
}

TEST_CASE("a prefix moved as a whole keeps its libexec (the relative path holds)") {
  const auto c = helper_candidates("/opt/ts/bin/ticksplit-agent", "../libexec/ticksplit", "ticksplit-kill-guard");
  CHECK(c.at(1) == "/opt/ts/libexec/ticksplit/ticksplit-kill-guard");
  // An odd layout, bin deeper than libexec's parent.
  CHECK(helper_candidates("/a/b/c/agent", "../../x", "g").at(1) == "/a/x/g");
}
