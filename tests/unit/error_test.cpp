// The error type (common/error.cpp).
#include <doctest/doctest.h>

#include <cerrno>

#include "common/error.hpp"

using namespace ticksplit;

TEST_CASE("a system error's message carries the errno text, which callers log and send back") {
  const auto e = system_error("bpf(BPF_MAP_UPDATE_ELEM)", E2BIG);
  CHECK(e.message == "bpf(BPF_MAP_UPDATE_ELEM): Argument list too long (errno 7)");
  CHECK(e.code == E2BIG);
  CHECK(e.describe() == "system: " + e.message);
  CHECK(system_error("no errno here", 0).message == "no errno here");
  CHECK(codec_error("bad").describe() == "codec: bad");
}
