#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/cnode/dist.hpp"
#include "common/cnode/handshake.hpp"

using namespace ticksplit::cnode;
using State = AcceptHandshake::State;

using ticksplit::cnode::dist::get_be;
using ticksplit::cnode::dist::put_be;

namespace {

std::string hex(const std::array<std::uint8_t, 16>& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : d) s += {digits[b >> 4], digits[b & 15]};
  return s;
}

std::string message(const std::string& body) {
  std::string m;
  put_be(m, body.size(), 2);
  return m + body;
}
std::string name_n(const std::string& node, std::uint64_t flags = dist::kOurs) {
  std::string b = "N";
  put_be(b, flags, 8);
  put_be(b, 9, 4);  // creation
  put_be(b, node.size(), 2);
  return message(b + node);
}
// Splits what the acceptor sent into its messages.
std::vector<std::string> messages(const std::string& out) {
  std::vector<std::string> v;
  for (std::size_t at = 0; at + 2 <= out.size();) {
    const auto n = get_be(out, at, 2);
    v.push_back(out.substr(at + 2, n));
    at += 2 + n;
  }
  return v;
}
std::string reply(const std::string& cookie, std::uint32_t their_challenge, std::uint32_t mine) {
  std::string b = "r";
  put_be(b, mine, 4);
  const auto d = *handshake_digest(cookie, their_challenge);
  b.append(reinterpret_cast<const char*>(d.data()), d.size());
  return message(b);
}

const Identity kUs{"ticksplit@198.51.100.11", "cookie", 77};
constexpr std::uint32_t kOurChallenge = 1234567;
constexpr std::uint32_t kTheirChallenge = 4294967295u;

}  // namespace

TEST_CASE("handshake digests are MD5 of the cookie and the challenge in decimal") {
  CHECK(hex(*handshake_digest("cookie", 1234567)) == "02987c6487a294f171e9ae88ff2b8d2e");
  CHECK(hex(*handshake_digest("cookie", 0)) == "e607172a1a7adb262d2d98462463b1a9");
  CHECK(hex(*handshake_digest("cookie", 4294967295u)) == "de56ff9d11b071905bce597a85d67f4f");
}

TEST_CASE("a version 6 handshake with the right cookie completes and proves ours") {
  AcceptHandshake hs(kUs, kOurChallenge);
  std::string out;
  CHECK(hs.feed(name_n("app@198.51.100.12"), out) == State::awaiting_reply);
  CHECK(hs.peer() == "app@198.51.100.12");
  auto sent = messages(out);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == "sok");
  const auto& ch = sent[1];
  CHECK(ch[0] == 'N');
  CHECK(get_be(ch, 1, 8) == dist::kOurs);
  CHECK(get_be(ch, 9, 4) == kOurChallenge);
  CHECK(get_be(ch, 13, 4) == 77);
  CHECK(ch.substr(19) == kUs.node);
  out.clear();
  CHECK(hs.feed(reply("cookie", kOurChallenge, kTheirChallenge), out) == State::done);
  sent = messages(out);
  REQUIRE(sent.size() == 1);
  const auto ack = *handshake_digest("cookie", kTheirChallenge);
  CHECK(sent[0] == "a" + std::string(reinterpret_cast<const char*>(ack.data()), ack.size()));
  CHECK(hs.leftover().empty());
}

TEST_CASE("a handshake fed one byte at a time gives the same bytes, and keeps what follows it") {
  const std::string in = name_n("app@198.51.100.12") + reply("cookie", kOurChallenge, 5) + std::string("\0\0\0\0", 4);
  AcceptHandshake whole(kUs, kOurChallenge), bytewise(kUs, kOurChallenge);
  std::string a, b;
  CHECK(whole.feed(in, a) == State::done);
  for (char c : in) bytewise.feed(std::string(1, c), b);
  CHECK(bytewise.state() == State::done);
  CHECK(a == b);
  CHECK(whole.leftover() == std::string("\0\0\0\0", 4));
  CHECK(bytewise.leftover() == std::string("\0\0\0\0", 4));
}

TEST_CASE("a version 5 name needs the complement before the reply") {
  std::string b = "n";
  put_be(b, 5, 2);
  put_be(b, dist::kOurs & 0xffffffff, 4);
  AcceptHandshake hs(kUs, kOurChallenge);
  std::string out;
  CHECK(hs.feed(message(b + "old@198.51.100.12"), out) == State::awaiting_complement);
  std::string c = "c";
  put_be(c, dist::kOurs >> 32, 4);
  put_be(c, 3, 4);
  CHECK(hs.feed(message(c), out) == State::awaiting_reply);
  CHECK(hs.feed(reply("cookie", kOurChallenge, 1), out) == State::done);
}

TEST_CASE("every refusal of the handshake") {
  std::string out;
  const auto fails = [&](const std::string& in, const std::string& why) {
    AcceptHandshake hs(kUs, kOurChallenge);
    CHECK(hs.feed(in, out) == State::failed);
    CHECK(hs.error() == why);
  };
  fails(reply("other", kOurChallenge, 1).insert(0, name_n("app@198.51.100.12")), "wrong cookie");
  fails(name_n("app@198.51.100.12") + reply("cookie", kOurChallenge + 1, 1), "wrong cookie");
  fails(name_n("no-at-sign"), "invalid node name");
  fails(name_n("@host"), "invalid node name");
  fails(name_n("name@"), "invalid node name");
  fails(name_n(std::string("a@b\0c", 5)), "invalid node name");
  fails(name_n("a@b c"), "invalid node name");
  fails(name_n(std::string(200, 'a') + "@" + std::string(60, 'b')), "handshake message of 276 bytes");
  fails(name_n("app@198.51.100.12", dist::flag::handshake_23), "peer lacks mandatory capabilities");
  fails(message("Xjunk"), "not a distribution handshake");
  fails(std::string("\0\0", 2), "handshake message of 0 bytes");
  fails(std::string("\xff\xff", 2), "handshake message of 65535 bytes");
  fails(name_n("app@198.51.100.12") + message("a"), "expected the challenge reply");
  std::string n = "n";
  put_be(n, 4, 2);
  put_be(n, dist::kOurs & 0xffffffff, 4);
  fails(message(n + "old@h"), "distribution version below 5");
  std::string bad_len = "N";
  put_be(bad_len, dist::kOurs, 8);
  put_be(bad_len, 1, 4);
  put_be(bad_len, 200, 2);  // claims more name than there is
  fails(message(bad_len + "a@b"), "name message with a bad length");
}

TEST_CASE("a failed handshake takes no more bytes and sends nothing more") {
  AcceptHandshake hs(kUs, kOurChallenge);
  std::string out;
  CHECK(hs.feed(name_n("bad"), out) == State::failed);
  CHECK(out.empty());
  CHECK(hs.feed(name_n("app@198.51.100.12"), out) == State::failed);
  CHECK(out.empty());
}
