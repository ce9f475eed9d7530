// Decodes Erlang's external term format into a Term. Written here rather than on ei's
// ei_decode_* because those take no buffer length and trust lengths from the wire; this
// decoder checks every length against the bytes it was given and never reads past them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ei/term.hpp"
#include "common/error.hpp"

namespace ticksplit::ei {

inline constexpr int max_decode_depth = 256;

// A whole message: version byte 131 followed by exactly one term.
Result<Term> decode(std::span<const std::uint8_t> bytes);
Result<Term> decode(const char* data, std::size_t size);

}  // namespace ticksplit::ei
