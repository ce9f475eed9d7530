// Encodes a Term in the external term format with ei's ei_x_encode_* functions.
#pragma once

#include "common/ei/term.hpp"
#include "common/ei/xbuff.hpp"
#include "common/error.hpp"

namespace ticksplit::ei {

// Appends `t` (no version byte) to `x`.
Status encode_term(const Term& t, XBuff& x);
// A whole message: version byte, then `t`.
Result<XBuff> encode(const Term& t);

}  // namespace ticksplit::ei
