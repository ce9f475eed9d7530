// The loss grammar, as schedules and the Erlang library write it: a percentage ("30%",
// "0.5%", up to 4 decimals) or a probability ("0.3", "1", up to 6 decimals), in (0, 100%].
// Decimal and exact: "33.3333%" is 333,333 ppm, never a float's neighbour. The same rules are
// erlang/src/ticksplit_loss.erl; tests/data/golden/losses.txt pins both.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit {

enum class LossError { syntax = 1, zero, above_one };
const char* loss_error_name(LossError e) noexcept;

Result<proto::Loss> parse_loss(std::string_view text);
// "30%", "0.5%", "100%": the shortest exact percentage.
std::string loss_text(proto::Loss loss);

}  // namespace ticksplit
