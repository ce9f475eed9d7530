#include <doctest/doctest.h>

#include "common/cnode/dist.hpp"
#include "common/cnode/packet.hpp"
#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"

using namespace ticksplit;
using namespace ticksplit::cnode;

namespace {
const ei::Pid kFrom{"app@198.51.100.12", 40, 1, 9};
const ei::Pid kTo{"ticksplit@198.51.100.11", 1, 0, 3};

ei::XBuff encoded(const ei::Term& t) {
  auto x = ei::encode(t);
  REQUIRE(x.ok());
  return std::move(x).value();
}
std::string body_of(const std::string& framed) {
  auto p = next_packet(framed);
  REQUIRE(p.ok());
  REQUIRE(p->has_value());
  CHECK((*p)->size == framed.size());
  return std::string((*p)->body);
}
}  // namespace

TEST_CASE("a framed REG_SEND parses back to its sender, name and message") {
  const auto msg = encoded(ei::tuple({ei::atom("hello"), std::int64_t{42}}));
  auto framed = frame_reg_send(kFrom, "ticksplit", msg);
  REQUIRE(framed.ok());
  auto m = parse_packet(body_of(*framed));
  REQUIRE(m.ok());
  CHECK(m->op == dist::op::reg_send);
  CHECK(m->from == kFrom);
  CHECK(m->to_name == "ticksplit");
  CHECK(*ei::decode(m->payload.data(), m->payload.size()) == ei::tuple({ei::atom("hello"), std::int64_t{42}}));
}

TEST_CASE("a framed SEND parses back with its message and no sender") {
  const auto msg = encoded(ei::atom("ok"));
  auto framed = frame_send(kTo, msg);
  REQUIRE(framed.ok());
  auto m = parse_packet(body_of(*framed));
  REQUIRE(m.ok());
  CHECK(m->op == dist::op::send);
  CHECK(!m->from);
  CHECK(m->payload == std::string(msg.data(), msg.size()));
}

TEST_CASE("packets come off a stream whole, ticks included, in any split") {
  const auto msg = encoded(ei::atom("x"));
  const std::string stream = std::string(4, '\0') + *frame_send(kTo, msg) + std::string(4, '\0');
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    std::string buf;
    std::vector<bool> got;  // tick or not, in order
    for (const auto& part : {stream.substr(0, cut), stream.substr(cut)}) {
      buf += part;
      for (;;) {
        auto p = next_packet(buf);
        REQUIRE(p.ok());
        if (!*p) break;
        got.push_back((*p)->tick);
        buf.erase(0, (*p)->size);
      }
    }
    CHECK(got == std::vector<bool>{true, false, true});
    CHECK(buf.empty());
  }
}

TEST_CASE("a packet header above the limit is refused before its body arrives") {
  std::string buf = "\x00\x40\x11\x00";  // 4,198,656 > kMaxPacket
  buf.resize(4);
  buf[0] = 0;
  buf[1] = 0x40;
  buf[2] = 0x11;
  buf[3] = 0;
  auto p = next_packet(buf);
  CHECK(!p.ok());
  std::string at_limit(4, '\0');
  at_limit[1] = static_cast<char>((dist::kMaxPacket >> 16) & 0xff);
  at_limit[2] = static_cast<char>((dist::kMaxPacket >> 8) & 0xff);
  at_limit[3] = static_cast<char>(dist::kMaxPacket & 0xff);
  auto q = next_packet(at_limit);
  REQUIRE(q.ok());
  CHECK(!q->has_value());  // waits for the body
}

TEST_CASE("malformed packets are refused with a reason") {
  const auto msg = encoded(ei::atom("x"));
  CHECK(!parse_packet("").ok());
  CHECK(!parse_packet("q").ok());  // not pass-through
  const auto body = [&](const ei::Term& control, bool with_message) {
    auto c = encoded(control);
    std::string b(1, static_cast<char>(dist::kPassThrough));
    b.append(c.data(), c.size());
    if (with_message) b.append(msg.data(), msg.size());
    return b;
  };
  CHECK(!parse_packet(body(ei::atom("notatuple"), true)).ok());
  CHECK(!parse_packet(body(ei::tuple({}), true)).ok());
  CHECK(!parse_packet(body(ei::tuple({std::int64_t{6}, ei::atom("x"), ei::atom(""), ei::atom("n")}), true)).ok());
  CHECK(!parse_packet(body(ei::tuple({std::int64_t{2}, ei::atom(""), ei::atom("x")}), true)).ok());
  CHECK(!parse_packet(body(ei::tuple({std::int64_t{2}, ei::atom(""), ei::Term(kTo)}), false)).ok());
  // a link carries no message; it is read and left alone
  auto link = parse_packet(body(ei::tuple({std::int64_t{1}, ei::Term(kFrom), ei::Term(kTo)}), false));
  REQUIRE(link.ok());
  CHECK(link->payload.empty());
  // a cut control term
  auto cut = body(ei::tuple({std::int64_t{2}, ei::atom(""), ei::Term(kTo)}), false);
  cut.resize(cut.size() - 3);
  CHECK(!parse_packet(cut).ok());
}

TEST_CASE("a control tuple above its own small limit is refused, the message after it is not counted") {
  const auto big = encoded(ei::binary(std::string(1 << 20, 'x')));
  auto framed = frame_reg_send(kFrom, "ticksplit", big);
  REQUIRE(framed.ok());
  CHECK(parse_packet(body_of(*framed)).ok());
  std::string b(1, static_cast<char>(dist::kPassThrough));
  auto fat = encoded(ei::tuple({std::int64_t{2}, ei::binary(std::string(70000, 'x')), ei::Term(kTo)}));
  b.append(fat.data(), fat.size());
  b.append(big.data(), big.size());
  CHECK(!parse_packet(b).ok());
}
