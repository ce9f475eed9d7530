// Conversions between Term's types and ei's fixed-size C structs.
#pragma once

#include <ei.h>

#include "common/ei/term.hpp"
#include "common/error.hpp"

namespace ticksplit::ei {

// Fails if the node name does not fit ei's buffer.
Result<erlang_pid> to_erlang_pid(const Pid& p);
Pid from_erlang_pid(const erlang_pid& p);

}  // namespace ticksplit::ei
