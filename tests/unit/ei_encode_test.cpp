#include <doctest/doctest.h>

#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
#include "golden.hpp"

using namespace ticksplit::ei;

namespace {
std::vector<std::uint8_t> enc(const Term& t) {
  auto x = encode(t);
  REQUIRE(x.ok());
  return {x->bytes().begin(), x->bytes().end()};
}
}  // namespace

// Where ei and term_to_binary choose the same wire form, our bytes equal Erlang's. They
// differ, legitimately, for atoms (OTP 25 writes Latin-1 ATOM_EXT, ei writes UTF-8) and for
// integers beyond 2^27 (ei switches to SMALL_BIG_EXT earlier); the round trip covers those.
TEST_CASE("encoding reproduces term_to_binary byte for byte") {
  const char* const identical[] = {"int_zero",      "int_small",    "int_256",      "int_neg",       "int_2_31",
                                   "int_max64",     "int_min64",    "big_2_64",     "big_neg_2_100", "big_2_2100",
                                   "float",         "binary_empty", "binary_hello", "binary_bytes",  "nil",
                                   "improper_long", "tuple_empty",  "tuple_large",  "map_empty"};
  for (const char* name : identical) {
    const auto bytes = golden(name);
    auto t = decode(bytes);
    REQUIRE(t.ok());
    CHECK_MESSAGE(enc(*t) == bytes, std::string(name));
  }
}

TEST_CASE("every golden vector survives decode -> encode -> decode") {
  const char* const all[] = {"atom_ok",    "atom_utf8", "atom_quoted", "int_max32",  "int_min32",    "string",
                             "list_mixed", "improper",  "tuple_ok",    "map_small",  "pid",          "ref",
                             "port",       "gen_call",  "nested",      "big_2_2100", "improper_long"};
  for (const char* name : all) {
    auto t = decode(golden(name));
    REQUIRE(t.ok());
    auto again = decode(enc(*t));
    REQUIRE(again.ok());
    CHECK_MESSAGE(*again == *t, std::string(name));
  }
}

TEST_CASE("pids and refs keep 32-bit creations through a round trip") {
  const Term p = Pid{"app@198.51.100.11", 1234, 5, 0xdeadbeef};
  const Term r = Ref{"app@198.51.100.11", 0xcafe0001, {1, 2, 3, 4, 5}};
  CHECK(*decode(enc(p)) == p);
  CHECK(*decode(enc(r)) == r);
}

TEST_CASE("unencodable terms are errors, not corrupt output") {
  CHECK_FALSE(encode(atom(std::string(300, 'a'))).ok());
  CHECK_FALSE(encode(Ref{"n@h", 1, {}}).ok());
  CHECK_FALSE(encode(Pid{std::string(2000, 'n'), 1, 1, 1}).ok());
}
