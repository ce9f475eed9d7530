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

// What one message may cost. Every element of a container takes at least one byte, so the
// elements still expected by all open containers may never exceed the bytes left: a header
// that claims more is refused before anything is built, and no reservation follows a claim
// (vectors grow with what was really decoded). A decoded Term is larger than the byte or two
// it came from, so the terms of one message and its size are capped too.
struct DecodeLimits {
  std::size_t max_bytes = 4 << 20;   // the agent's largest request is a few hundred KiB
  std::size_t max_terms = 500'000;   // an events reply of 1000 events is about 25,000
  int max_depth = 256;
};

// A whole message: version byte 131 followed by exactly one term.
Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});
Result<Term> decode(const char* data, std::size_t size, const DecodeLimits& limits = {});

// A message followed by more bytes (a distribution packet's control term, then its
// message): the term and how many bytes, version included, it took. The term may take at most
// limits.max_bytes; the bytes after it are not looked at.
struct Prefix {
  Term term;
  std::size_t used = 0;
};
Result<Prefix> decode_prefix(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});

}  // namespace ticksplit::ei
