#include <doctest/doctest.h>

#include <random>

#include "common/ei/decode.hpp"
#include "golden.hpp"

using namespace ticksplit::ei;

namespace {
Term dec(const std::string& name) {
  auto r = decode(golden(name));
  REQUIRE_MESSAGE(r.ok(), name << ": " << (r.ok() ? "" : r.error().message));
  return r.value();
}
Term ints(std::initializer_list<int> v) {
  std::vector<Term> items;
  for (int i : v) items.emplace_back(i);
  return list(std::move(items));
}
const char* const kAllVectors[] = {
    "atom_ok",    "atom_utf8", "atom_quoted",   "int_zero",     "int_small",    "int_256",     "int_neg",
    "int_max32",  "int_min32", "int_2_31",      "int_max64",    "int_min64",    "big_2_64",    "big_neg_2_100",
    "big_2_2100", "float",     "binary_empty",  "binary_hello", "binary_bytes", "nil",         "string",
    "list_mixed", "improper",  "improper_long", "tuple_empty",  "tuple_ok",     "tuple_large", "map_empty",
    "map_small",  "pid",       "ref",           "port",         "gen_call",     "nested"};
}  // namespace

TEST_CASE("atoms decode from term_to_binary output") {
  CHECK(dec("atom_ok") == atom("ok"));
  CHECK(dec("atom_utf8") == atom("h\xc3\xa9llo"));
  CHECK(dec("atom_quoted") == atom("$gen_call"));
}

TEST_CASE("integers decode across every wire form, bignums included") {
  CHECK(dec("int_zero") == Term(0));
  CHECK(dec("int_small") == Term(255));
  CHECK(dec("int_256") == Term(256));
  CHECK(dec("int_neg") == Term(-1));
  CHECK(dec("int_max32") == Term(std::int64_t{2147483647}));
  CHECK(dec("int_min32") == Term(std::int64_t{-2147483648LL}));
  CHECK(dec("int_2_31") == Term(std::int64_t{2147483648LL}));  // SMALL_BIG on the wire, fits int64
  CHECK(dec("int_max64") == Term(INT64_MAX));
  CHECK(dec("int_min64") == Term(INT64_MIN));
  CHECK(dec("big_2_64") == Term(BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}}));
  std::vector<std::uint8_t> d100(13, 0);
  d100[12] = 0x10;  // 2^100 = 16^25
  CHECK(dec("big_neg_2_100") == Term(BigInt{true, d100}));
  const auto big = dec("big_2_2100");
  REQUIRE(big.is<BigInt>());
  CHECK(big.as<BigInt>()->digits.size() == 263);  // LARGE_BIG_EXT: more than 255 digit bytes
  CHECK(big.as<BigInt>()->digits.back() == 0x10);
}

TEST_CASE("floats, binaries, lists and tuples decode") {
  CHECK(dec("float") == Term(3.5));
  CHECK(dec("binary_empty") == binary(""));
  CHECK(dec("binary_hello") == binary("hello"));
  CHECK(dec("binary_bytes") == binary(std::string("\x00\xff\x01", 3)));
  CHECK(dec("nil").is_nil());
  CHECK(dec("string") == ints({1, 2, 3}));  // STRING_EXT is a list
  CHECK(dec("list_mixed") == list({atom("a"), binary("b"), 300}));
  CHECK(dec("improper") == improper_list({atom("a")}, atom("b")));
  CHECK(dec("improper_long") == improper_list({1, 2}, 3));
  CHECK(dec("improper") != list({atom("a"), atom("b")}));
  CHECK(dec("tuple_empty") == tuple({}));
  CHECK(dec("tuple_ok") == tuple({atom("ok"), 1}));
  const auto large = dec("tuple_large");
  REQUIRE(large.tuple_of(300) != nullptr);
  CHECK((*large.tuple_of(300))[299] == Term(300));
}

TEST_CASE("maps decode with their keys and values") {
  CHECK(dec("map_empty") == map({}));
  const auto m = dec("map_small");
  REQUIRE(m.is<Map>());
  CHECK(m.as<Map>()->entries.size() == 2);
  REQUIRE(m.get("a") != nullptr);
  CHECK(*m.get("a") == Term(1));
  CHECK(m.get("k") == nullptr);  // the key is a binary, not an atom
}

TEST_CASE("pids, refs and ports decode with node and creation") {
  CHECK(dec("pid") == Term(Pid{"nonode@nohost", 42, 7, 0}));
  CHECK(dec("ref") == Term(Ref{"nonode@nohost", 0, {3, 2, 1}}));
  CHECK(dec("port") == Term(Port{"nonode@nohost", 5, 0}));
}

TEST_CASE("a gen_server call envelope with an [alias | Ref] tag decodes") {
  const auto t = dec("gen_call");
  const Ref ref{"nonode@nohost", 0, {3, 2, 1}};
  CHECK(t == tuple({atom("$gen_call"), tuple({Pid{"nonode@nohost", 42, 7, 0}, improper_list({atom("alias")}, ref)}),
                    atom("status")}));
}

TEST_CASE("every proper prefix of every vector fails cleanly") {
  for (const char* name : kAllVectors) {
    const auto bytes = golden(name);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
      auto r = decode(prefix);  // a heap copy of exactly n bytes, so ASan sees any overread
      CHECK_MESSAGE(!r.ok(), std::string(name) << " truncated to " << n << " bytes decoded");
    }
  }
}

TEST_CASE("corrupted vectors fail with a message") {
  auto bytes = golden("tuple_ok");
  SUBCASE("bad version byte") {
    bytes[0] = 130;
    auto r = decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("version") != std::string::npos);
  }
  SUBCASE("unknown tag") {
    bytes[1] = 200;
    auto r = decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("unsupported term tag 200") != std::string::npos);
  }
  SUBCASE("trailing bytes") {
    bytes.push_back(0);
    auto r = decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("trailing") != std::string::npos);
  }
  SUBCASE("a list claiming four billion elements") {
    const std::vector<std::uint8_t> lie = {131, 108, 0xff, 0xff, 0xff, 0xff, 106};
    CHECK_FALSE(decode(lie).ok());
  }
  SUBCASE("a binary claiming more bytes than sent") {
    const std::vector<std::uint8_t> lie = {131, 109, 0, 0, 1, 0, 'a'};
    CHECK_FALSE(decode(lie).ok());
  }
  SUBCASE("a map claiming more pairs than bytes") {
    const std::vector<std::uint8_t> lie = {131, 116, 0, 0, 0, 3, 97, 1};
    CHECK_FALSE(decode(lie).ok());
  }
  SUBCASE("a pid whose node is not an atom") {
    const std::vector<std::uint8_t> bad = {131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    auto r = decode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("node name") != std::string::npos);
  }
}

TEST_CASE("nesting deeper than the limit is refused, not a stack overflow") {
  std::vector<std::uint8_t> deep = {131};
  for (int i = 0; i < 100000; ++i) deep.insert(deep.end(), {104, 1});  // {{{...
  deep.push_back(106);
  auto r = decode(deep);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("nested deeper") != std::string::npos);
}

TEST_CASE("nested headers cannot together claim more elements than there are bytes") {
  // Each LARGE_TUPLE on its own claims no more than the bytes after it; together they claim
  // about depth × size. A per-level check passed this and reserved count × sizeof(Term) at
  // every level (a 1 MiB message asked for ~18 GB).
  const std::size_t size = 4096;
  std::vector<std::uint8_t> forged = {131};
  for (int level = 0; level < 8; ++level) {
    const auto claim = static_cast<std::uint32_t>(size - forged.size() - 5);
    forged.insert(forged.end(), {105, static_cast<std::uint8_t>(claim >> 24), static_cast<std::uint8_t>(claim >> 16),
                                 static_cast<std::uint8_t>(claim >> 8), static_cast<std::uint8_t>(claim)});
  }
  forged.resize(size, 106);  // the rest: NILs, one byte each
  auto r = decode(forged);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("claims") != std::string::npos);
  // Honest nesting of the same size decodes: a list of lists whose lengths add up.
  std::vector<std::uint8_t> honest = {131, 108, 0, 0, 0, 2, 108, 0, 0, 0, 3, 106, 106, 106, 106, 97, 7, 106};
  auto ok = decode(honest);
  REQUIRE_MESSAGE(ok.ok(), ok.error().message);
  CHECK(to_string(*ok) == "[[[],[],[]],7]");
}

TEST_CASE("a message's size and its number of terms are bounded") {
  std::vector<std::uint8_t> many = {131, 108, 0, 0, 0x27, 0x10};  // a list of 10,000 NILs
  many.resize(many.size() + 10000, 106);
  many.push_back(106);
  CHECK(decode(many).ok());
  auto r = decode(many, DecodeLimits{.max_terms = 5000});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("more than 5000 terms") != std::string::npos);
  std::vector<std::uint8_t> chars = {131, 107, 0x27, 0x10};  // STRING_EXT: a term per byte
  chars.resize(chars.size() + 10000, 'a');
  CHECK(decode(chars).ok());
  CHECK_FALSE(decode(chars, DecodeLimits{.max_terms = 5000}).ok());
  auto big = decode(many, DecodeLimits{.max_bytes = 1000});
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.find("above the limit of 1000") != std::string::npos);
}

TEST_CASE("random corruption never crashes the decoder") {
  std::mt19937 rng(20261121);  // fixed seed: the same mutations every run
  int rejected = 0;
  for (const char* name : kAllVectors) {
    const auto original = golden(name);
    for (int round = 0; round < 200; ++round) {
      auto bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<std::uint8_t>(rng());
      if (!decode(bytes).ok()) ++rejected;
    }
  }
  CHECK(rejected > 0);  // the corruption did reach the decoder's checks
}
