#include "common/ei/decode.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace ticksplit::ei {
namespace {

// External term format tags (erts/emulator/beam/external.h).
enum Tag : std::uint8_t {
  kNewFloat = 70,
  kBitBinary = 77,
  kNewPid = 88,
  kNewPort = 89,
  kNewerRef = 90,
  kSmallInt = 97,
  kInt = 98,
  kFloat = 99,
  kAtom = 100,
  kRef = 101,
  kPort = 102,
  kPid = 103,
  kSmallTuple = 104,
  kLargeTuple = 105,
  kNil = 106,
  kString = 107,
  kList = 108,
  kBinary = 109,
  kSmallBig = 110,
  kLargeBig = 111,
  kNewRef = 114,
  kSmallAtom = 115,
  kMap = 116,
  kAtomUtf8 = 118,
  kSmallAtomUtf8 = 119,
  kV4Port = 120,
};

class Reader {
 public:
  Reader(std::span<const std::uint8_t> b, const DecodeLimits& limits) : b_(b), limits_(limits) {}

  Result<Term> term(int depth);
  [[nodiscard]] std::size_t remaining() const { return b_.size() - pos_; }

  bool u8(std::uint8_t& v) { return fixed(v, 1); }
  bool u16(std::uint16_t& v) { return fixed(v, 2); }
  bool u32(std::uint32_t& v) { return fixed(v, 4); }
  bool u64(std::uint64_t& v) { return fixed(v, 8); }

 private:
  template <class U>
  bool fixed(U& v, std::size_t n) {
    if (remaining() < n) return false;
    U x = 0;
    for (std::size_t i = 0; i < n; ++i) x = static_cast<U>((x << 8) | b_[pos_ + i]);
    pos_ += n;
    v = x;
    return true;
  }
  bool bytes(std::string& out, std::size_t n) {
    if (remaining() < n) return false;
    out.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  Error truncated(const char* what) const {
    return codec_error(std::string("truncated ") + what + " at byte " + std::to_string(pos_));
  }

  Result<Term> atom_body(std::size_t len_bytes, bool latin1);
  Result<std::string> node_atom(int depth);
  Result<Term> big(std::size_t len_bytes);
  Result<Term> tuple(std::size_t arity, int depth);
  Result<Term> list(int depth);
  Result<Term> string_ext();
  Result<Term> map(int depth);
  Result<Term> pid(bool is_new, int depth);
  Result<Term> port(std::uint8_t tag, int depth);
  Result<Term> ref(std::uint8_t tag, int depth);
  Result<Term> float_old();

  // A container announcing `count` elements: with every element still expected by the
  // containers already open, they must fit in the bytes left (each takes at least one).
  // Checking one level alone would let nested headers each claim every remaining byte.
  Result<Unit> open(std::uint64_t count, const char* what) {
    // pending_ never exceeds remaining() and count is at most 2^33, so the sum cannot wrap.
    if (pending_ + count > remaining())
      return codec_error(std::string(what) + " at byte " + std::to_string(pos_) + " claims " + std::to_string(count) +
                         " elements; with " + std::to_string(pending_) + " more expected, only " +
                         std::to_string(remaining()) + " bytes are left");
    pending_ += count;
    return Unit{};
  }
  // The next announced element is being read now (its bytes are counted from here on).
  void next_element() { --pending_; }
  // A vector for `count` decoded elements: reserved only up to a small size, so memory
  // follows what is decoded rather than what a header says.
  template <class V>
  static void reserve_some(V& v, std::uint64_t count) {
    v.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, kReserveMax)));
  }
  static constexpr std::uint64_t kReserveMax = 64;

  std::span<const std::uint8_t> b_;
  DecodeLimits limits_;
  std::size_t pos_ = 0;
  std::uint64_t pending_ = 0;  // elements announced by open containers, not yet begun
  std::size_t terms_ = 0;
};

// ATOM_EXT and SMALL_ATOM_EXT carry Latin-1 (OTP 25 still writes them); Atom holds UTF-8.
Result<Term> Reader::atom_body(std::size_t len_bytes, bool latin1) {
  std::uint32_t len = 0;
  if (len_bytes == 1) {
    std::uint8_t l = 0;
    if (!u8(l)) return truncated("atom length");
    len = l;
  } else {
    std::uint16_t l = 0;
    if (!u16(l)) return truncated("atom length");
    len = l;
  }
  std::string raw;
  if (!bytes(raw, len)) return truncated("atom");
  if (!latin1) return Term(Atom{std::move(raw)});
  std::string utf8;
  for (unsigned char c : raw) {
    if (c < 0x80) {
      utf8.push_back(static_cast<char>(c));
    } else {
      utf8.push_back(static_cast<char>(0xc0 | (c >> 6)));
      utf8.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return Term(Atom{std::move(utf8)});
}

Result<std::string> Reader::node_atom(int depth) {
  auto t = term(depth + 1);
  if (!t) return t.error();
  const auto* a = t->as<Atom>();
  if (a == nullptr) return codec_error("node name is not an atom");
  return a->name;
}

Result<Term> Reader::big(std::size_t len_bytes) {
  std::uint32_t n = 0;
  if (len_bytes == 1) {
    std::uint8_t l = 0;
    if (!u8(l)) return truncated("bignum length");
    n = l;
  } else if (!u32(n)) {
    return truncated("bignum length");
  }
  std::uint8_t sign = 0;
  if (!u8(sign)) return truncated("bignum sign");
  if (sign > 1) return codec_error("bignum sign byte is " + std::to_string(sign));
  std::string raw;
  if (!bytes(raw, n)) return truncated("bignum digits");
  std::vector<std::uint8_t> digits(raw.begin(), raw.end());
  while (!digits.empty() && digits.back() == 0) digits.pop_back();
  // Values that fit in int64 become plain integers, so equal numbers compare equal.
  if (digits.size() <= 8) {
    std::uint64_t mag = 0;
    for (std::size_t i = digits.size(); i-- > 0;) mag = (mag << 8) | digits[i];
    if (sign == 0 && mag <= static_cast<std::uint64_t>(INT64_MAX)) return Term(static_cast<std::int64_t>(mag));
    if (sign == 1 && mag <= static_cast<std::uint64_t>(INT64_MAX) + 1) return Term(static_cast<std::int64_t>(0 - mag));
  }
  return Term(BigInt{sign == 1, std::move(digits)});
}

Result<Term> Reader::tuple(std::size_t arity, int depth) {
  if (auto o = open(arity, "a tuple"); !o) return o.error();
  Tuple t;
  reserve_some(t.items, arity);
  for (std::size_t i = 0; i < arity; ++i) {
    next_element();
    auto e = term(depth + 1);
    if (!e) return e.error();
    t.items.push_back(std::move(e).value());
  }
  return Term(std::move(t));
}

Result<Term> Reader::list(int depth) {
  std::uint32_t n = 0;
  if (!u32(n)) return truncated("list length");
  if (auto o = open(std::uint64_t{n} + 1, "a list"); !o) return o.error();  // its elements and its tail
  List l;
  reserve_some(l.items, n);
  for (std::uint32_t i = 0; i < n; ++i) {
    next_element();
    auto e = term(depth + 1);
    if (!e) return e.error();
    l.items.push_back(std::move(e).value());
  }
  next_element();
  auto tail = term(depth + 1);
  if (!tail) return tail.error();
  if (!tail->is_nil()) l.tail = std::make_shared<const Term>(std::move(tail).value());
  return Term(std::move(l));
}

// STRING_EXT is how Erlang sends a list of bytes; it is a list, so decode it as one.
Result<Term> Reader::string_ext() {
  std::uint16_t n = 0;
  if (!u16(n)) return truncated("string length");
  std::string s;
  if (!bytes(s, n)) return truncated("string");
  if ((terms_ += n) > limits_.max_terms)  // each byte becomes a term of its own
    return codec_error("more than " + std::to_string(limits_.max_terms) + " terms in one message");
  List l;
  l.items.reserve(n);
  for (unsigned char c : s) l.items.emplace_back(std::int64_t{c});
  return Term(std::move(l));
}

Result<Term> Reader::map(int depth) {
  std::uint32_t n = 0;
  if (!u32(n)) return truncated("map size");
  if (auto o = open(std::uint64_t{n} * 2, "a map"); !o) return o.error();
  Map m;
  reserve_some(m.entries, n);
  for (std::uint32_t i = 0; i < n; ++i) {
    next_element();
    auto k = term(depth + 1);
    if (!k) return k.error();
    next_element();
    auto v = term(depth + 1);
    if (!v) return v.error();
    m.entries.emplace_back(std::move(k).value(), std::move(v).value());
  }
  return Term(std::move(m));
}

Result<Term> Reader::pid(bool is_new, int depth) {
  auto node = node_atom(depth);
  if (!node) return node.error();
  Pid p{std::move(node).value()};
  if (!u32(p.num) || !u32(p.serial)) return truncated("pid");
  if (is_new) {
    if (!u32(p.creation)) return truncated("pid creation");
  } else {
    std::uint8_t c = 0;
    if (!u8(c)) return truncated("pid creation");
    p.creation = c;
  }
  return Term(std::move(p));
}

Result<Term> Reader::port(std::uint8_t tag, int depth) {
  auto node = node_atom(depth);
  if (!node) return node.error();
  Port p{std::move(node).value()};
  if (tag == kV4Port) {
    if (!u64(p.id)) return truncated("port id");
  } else {
    std::uint32_t id = 0;
    if (!u32(id)) return truncated("port id");
    p.id = id;
  }
  if (tag == kPort) {
    std::uint8_t c = 0;
    if (!u8(c)) return truncated("port creation");
    p.creation = c;
  } else if (!u32(p.creation)) {
    return truncated("port creation");
  }
  return Term(std::move(p));
}

Result<Term> Reader::ref(std::uint8_t tag, int depth) {
  std::uint16_t words = 1;
  if (tag != kRef && !u16(words)) return truncated("reference length");
  if (words == 0 || words > 5) return codec_error("reference with " + std::to_string(words) + " words");
  auto node = node_atom(depth);
  if (!node) return node.error();
  Ref r{std::move(node).value(), 0, {}};
  auto read_creation = [&]() {
    if (tag == kNewerRef) return u32(r.creation);
    std::uint8_t c = 0;
    bool ok = u8(c);
    r.creation = c;
    return ok;
  };
  if (tag == kRef) {
    std::uint32_t id = 0;
    if (!u32(id) || !read_creation()) return truncated("reference");
    r.ids.push_back(id);
    return Term(std::move(r));
  }
  if (!read_creation()) return truncated("reference creation");
  r.ids.resize(words);
  for (auto& id : r.ids)
    if (!u32(id)) return truncated("reference id");
  return Term(std::move(r));
}

// FLOAT_EXT: 31 bytes of printf("%.20e") text, NUL-padded.
Result<Term> Reader::float_old() {
  std::string text;
  if (!bytes(text, 31)) return truncated("float");
  text = text.c_str();
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return codec_error("malformed float text");
  return Term(d);
}

Result<Term> Reader::term(int depth) {
  if (depth > limits_.max_depth) return codec_error("term nested deeper than " + std::to_string(limits_.max_depth));
  if (++terms_ > limits_.max_terms)
    return codec_error("more than " + std::to_string(limits_.max_terms) + " terms in one message");
  std::uint8_t tag = 0;
  if (!u8(tag)) return truncated("term");
  switch (tag) {
    case kSmallInt: {
      std::uint8_t v = 0;
      if (!u8(v)) return truncated("integer");
      return Term(std::int64_t{v});
    }
    case kInt: {
      std::uint32_t v = 0;
      if (!u32(v)) return truncated("integer");
      return Term(std::int64_t{static_cast<std::int32_t>(v)});
    }
    case kNewFloat: {
      std::uint64_t v = 0;
      if (!u64(v)) return truncated("float");
      return Term(std::bit_cast<double>(v));
    }
    case kFloat:
      return float_old();
    case kAtom:
      return atom_body(2, true);
    case kAtomUtf8:
      return atom_body(2, false);
    case kSmallAtom:
      return atom_body(1, true);
    case kSmallAtomUtf8:
      return atom_body(1, false);
    case kSmallTuple: {
      std::uint8_t n = 0;
      if (!u8(n)) return truncated("tuple arity");
      return tuple(n, depth);
    }
    case kLargeTuple: {
      std::uint32_t n = 0;
      if (!u32(n)) return truncated("tuple arity");
      return tuple(n, depth);
    }
    case kNil:
      return Term(List{});
    case kString:
      return string_ext();
    case kList:
      return list(depth);
    case kBinary: {
      std::uint32_t n = 0;
      if (!u32(n)) return truncated("binary length");
      Binary b;
      if (!bytes(b.bytes, n)) return truncated("binary");
      return Term(std::move(b));
    }
    case kSmallBig:
      return big(1);
    case kLargeBig:
      return big(4);
    case kMap:
      return map(depth);
    case kPid:
      return pid(false, depth);
    case kNewPid:
      return pid(true, depth);
    case kPort:
    case kNewPort:
    case kV4Port:
      return port(tag, depth);
    case kRef:
    case kNewRef:
    case kNewerRef:
      return ref(tag, depth);
    case kBitBinary:
      return codec_error("bitstrings are not supported");
    default:
      return codec_error("unsupported term tag " + std::to_string(tag) + " at byte " + std::to_string(pos_ - 1));
  }
}

}  // namespace

Result<Prefix> decode_prefix(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  // The term may take at most max_bytes of what follows; one that needs more reads as cut.
  bytes = bytes.first(std::min(bytes.size(), limits.max_bytes));
  Reader r(bytes, limits);
  std::uint8_t version = 0;
  if (!r.u8(version)) return codec_error("empty message");
  if (version != 131) return codec_error("bad version byte " + std::to_string(version));
  auto t = r.term(0);
  if (!t) return t.error();
  return Prefix{std::move(t).value(), bytes.size() - r.remaining()};
}

Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_bytes)
    return codec_error("message of " + std::to_string(bytes.size()) + " bytes, above the limit of " +
                       std::to_string(limits.max_bytes));
  auto p = decode_prefix(bytes, limits);
  if (!p) return p.error();
  if (p->used != bytes.size())
    return codec_error(std::to_string(bytes.size() - p->used) + " trailing bytes after the term");
  return std::move(p->term);
}

Result<Term> decode(const char* data, std::size_t size, const DecodeLimits& limits) {
  return decode(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size), limits);
}

}  // namespace ticksplit::ei
