// The loss grammar against the golden vectors the Erlang library reads too
// (tests/data/golden/losses.txt), and the threshold the kernel gets from it.
#include <doctest/doctest.h>

#include <cmath>

#include "agent/bpf/drop_map.hpp"
#include "common/loss.hpp"
#include "golden.hpp"

using namespace ticksplit;

TEST_CASE("losses: the golden vectors shared with the Erlang library") {
  const auto rows = golden_rows("losses.txt");
  REQUIRE(rows.size() >= 30);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 3);
    const auto got = parse_loss(r[0]);
    const std::string seen =
        got ? std::to_string(got->ppm) : std::string("error:") + loss_error_name(static_cast<LossError>(got.error().code));
    CHECK_MESSAGE(seen == r[1], r[0] << (got ? "" : ": " + got.error().message));
    if (got) CHECK(loss_text(*got) == r[2]);
  }
}

TEST_CASE("losses: errors say what is expected; every ppm prints and parses back to itself") {
  CHECK(parse_loss("half").error().message.find("30%") != std::string::npos);
  CHECK(parse_loss("0%").error().message.find("above 0") != std::string::npos);
  for (std::uint32_t ppm = 1; ppm <= proto::Loss::total_ppm; ppm += 997) {
    const auto back = parse_loss(loss_text(proto::Loss{ppm}));
    REQUIRE(back);
    CHECK(back->ppm == ppm);
  }
}

TEST_CASE("losses: the kernel's threshold is within 2^-32 of ppm / 10^6, exact at the ends") {
  CHECK(agent::bpf::drop_below_of_ppm(proto::Loss::total_ppm) == agent::bpf::always_drop);
  for (std::uint32_t ppm : {1u, 10u, 333'333u, 500'000u, 999'999u}) {
    const double want = ppm / 1e6 * 4294967296.0;
    CHECK(std::abs(static_cast<double>(agent::bpf::drop_below_of_ppm(ppm)) - want) <= 1.0);
    CHECK(agent::bpf::drop_below_of_ppm(ppm) < agent::bpf::always_drop);
  }
}
