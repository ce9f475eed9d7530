#include "common/cnode/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "common/cnode/dist.hpp"
#include "common/node_name.hpp"

namespace ticksplit::cnode {

namespace {

using dist::get_be;
using dist::put_be;

void put_message(std::string& out, std::string_view body) {
  put_be(out, body.size(), 2);
  out.append(body);
}

}  // namespace

std::optional<std::array<std::uint8_t, 16>> handshake_digest(std::string_view cookie, std::uint32_t challenge) {
  const std::string text = std::string(cookie) + std::to_string(challenge);
  std::array<std::uint8_t, 16> d{};
  unsigned int len = 0;
  // MD5 is what the protocol prescribes. A provider that refuses it (FIPS) fails the call.
  const EVP_MD* md5 = EVP_md5();
  if (md5 == nullptr || EVP_Digest(text.data(), text.size(), d.data(), &len, md5, nullptr) != 1 || len != d.size())
    return std::nullopt;
  return d;
}

AcceptHandshake::State AcceptHandshake::feed(std::string_view in, std::string& out) {
  if (state_ == State::done || state_ == State::failed) {
    if (state_ == State::done) buf_.append(in);
    return state_;
  }
  buf_.append(in);
  while (state_ != State::done && state_ != State::failed && buf_.size() >= 2) {
    const auto len = get_be(buf_, 0, 2);
    if (len == 0 || len > dist::kMaxHandshakeMessage)
      return fail("handshake message of " + std::to_string(len) + " bytes");
    if (buf_.size() < 2 + len) break;
    const std::string message = buf_.substr(2, len);
    buf_.erase(0, 2 + len);
    on_message(message, out);
  }
  // A complete handshake is at most one message plus its length ahead of us.
  if (state_ != State::done && buf_.size() > 2 + dist::kMaxHandshakeMessage) return fail("handshake overrun");
  return state_;
}

AcceptHandshake::State AcceptHandshake::on_message(std::string_view m, std::string& out) {
  switch (state_) {
    case State::awaiting_name:
      return on_name(m, out);
    case State::awaiting_complement:
      return on_complement(m);
    case State::awaiting_reply:
      return on_reply(m, out);
    default:
      return state_;
  }
}

AcceptHandshake::State AcceptHandshake::on_name(std::string_view m, std::string& out) {
  std::string_view name;
  std::uint64_t required = dist::kMandatory;
  if (m[0] == 'N' && m.size() >= 15) {  // 'N', Flags:64, Creation:32, NameLen:16, Name
    peer_flags_ = get_be(m, 1, 8);
    const auto n = get_be(m, 13, 2);
    if (15 + n != m.size()) return fail("name message with a bad length");
    name = m.substr(15);
  } else if (m[0] == 'n' && m.size() >= 7) {  // 'n', Version:16, Flags:32, Name (version 5)
    if (get_be(m, 1, 2) < 5) return fail("distribution version below 5");
    peer_flags_ = get_be(m, 3, 4);
    required &= 0xffffffff;  // the high half arrives in the complement
    name = m.substr(7);
  } else {
    return fail("not a distribution handshake");
  }
  if ((peer_flags_ & dist::flag::mandatory_25_digest) == 0 && (peer_flags_ & required) != required)
    return fail("peer lacks mandatory capabilities");
  if (!valid_node_name(name)) return fail("invalid node name");
  peer_ = std::string(name);
  put_message(out, "sok");
  std::string challenge = "N";  // 'N', Flags:64, Challenge:32, Creation:32, NameLen:16, Name
  put_be(challenge, dist::kOurs, 8);
  put_be(challenge, challenge_, 4);
  put_be(challenge, us_.creation, 4);
  put_be(challenge, us_.node.size(), 2);
  challenge += us_.node;
  put_message(out, challenge);
  return state_ = m[0] == 'n' ? State::awaiting_complement : State::awaiting_reply;
}

AcceptHandshake::State AcceptHandshake::on_complement(std::string_view m) {
  if (m.size() != 9 || m[0] != 'c') return fail("expected the complement");  // 'c', FlagsHigh:32, Creation:32
  peer_flags_ |= get_be(m, 1, 4) << 32;
  return state_ = State::awaiting_reply;
}

AcceptHandshake::State AcceptHandshake::on_reply(std::string_view m, std::string& out) {
  if (m.size() != 21 || m[0] != 'r') return fail("expected the challenge reply");  // 'r', Challenge:32, Digest
  const auto expected = handshake_digest(us_.cookie, challenge_);
  const auto ack = handshake_digest(us_.cookie, static_cast<std::uint32_t>(get_be(m, 1, 4)));
  if (!expected || !ack) return fail("no MD5 for the digest");
  if (CRYPTO_memcmp(expected->data(), m.data() + 5, expected->size()) != 0) return fail("wrong cookie");
  std::string a = "a";
  a.append(reinterpret_cast<const char*>(ack->data()), ack->size());
  put_message(out, a);
  return state_ = State::done;
}

AcceptHandshake::State AcceptHandshake::fail(std::string why) {
  error_ = std::move(why);
  buf_.clear();
  return state_ = State::failed;
}

}  // namespace ticksplit::cnode
