// The accepting side of Erlang's distribution handshake (version 6, with the version-5 name
// message and its complement), as a state machine over bytes: no socket, no clock, no
// blocking. The agent feeds it what a non-blocking socket delivered and sends what it
// returns, so a slow or silent client costs a buffer, never the loop (ei_accept_tmo blocks for
// its timeout on every read, and a client trickling a byte at a time kept it there 11 s).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ticksplit::cnode {

// MD5(Cookie ++ integer_to_list(Challenge)), the digest both sides prove the cookie with, or
// nothing if libcrypto will not compute MD5 (a FIPS-only configuration): then no handshake
// can succeed, and the agent refuses to start (a digest left at zero would admit anyone).
std::optional<std::array<std::uint8_t, 16>> handshake_digest(std::string_view cookie, std::uint32_t challenge);

struct Identity {
  std::string node;  // our full node name, name@host
  std::string cookie;
  std::uint32_t creation = 0;
};

class AcceptHandshake {
 public:
  enum class State { awaiting_name, awaiting_complement, awaiting_reply, done, failed };

  // `challenge` is ours; it must be unpredictable (the agent draws it from getrandom).
  AcceptHandshake(Identity us, std::uint32_t challenge) : us_(std::move(us)), challenge_(challenge) {}

  // Consumes `in` and appends to `out` what must be sent. Bytes after the handshake's last
  // message are kept in leftover() for the connection.
  State feed(std::string_view in, std::string& out);

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] const std::string& peer() const noexcept { return peer_; }   // once past the name
  [[nodiscard]] const std::string& error() const noexcept { return error_; }  // once failed
  [[nodiscard]] const std::string& leftover() const noexcept { return buf_; }

 private:
  State on_message(std::string_view m, std::string& out);
  State on_name(std::string_view m, std::string& out);
  State on_complement(std::string_view m);
  State on_reply(std::string_view m, std::string& out);
  State fail(std::string why);

  Identity us_;
  std::uint32_t challenge_;
  State state_ = State::awaiting_name;
  std::string buf_;
  std::string peer_;
  std::string error_;
  std::uint64_t peer_flags_ = 0;
};

}  // namespace ticksplit::cnode
