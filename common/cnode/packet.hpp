// Distribution packets after the handshake, as pure functions over bytes: splitting a
// stream into packets (4-byte length; length 0 is a tick), reading a pass-through packet's
// control tuple and message, and framing the two messages the agent sends (SEND to a pid,
// REG_SEND to a registered name). The wire format lives here and nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/ei/term.hpp"
#include "common/ei/xbuff.hpp"
#include "common/error.hpp"

namespace ticksplit::cnode {

struct Packet {
  bool tick = false;
  std::string_view body;  // without the length, inside the buffer given; empty for a tick
  std::size_t size = 0;   // bytes it took of that buffer, length included
};

// The first whole packet at the front of `buf`, if there is one; the caller advances by its
// size (and erases once for all the packets of a read: erasing each would be quadratic in a
// read full of ticks). A length above dist::kMaxPacket is an error before anything of it is
// buffered.
Result<std::optional<Packet>> next_packet(std::string_view buf);

struct Message {
  std::int64_t op = 0;          // dist::op; other operations carry no message for us
  std::optional<ei::Pid> from;  // REG_SEND's sender
  std::string to_name;          // REG_SEND's registered name
  std::string payload;          // the message, version byte first; empty if the op has none
};

Result<Message> parse_packet(std::string_view body);

// Whole packets, length included, ready to write.
Result<std::string> frame_send(const ei::Pid& to, const ei::XBuff& message);
Result<std::string> frame_reg_send(const ei::Pid& from, const std::string& to_name, const ei::XBuff& message);

}  // namespace ticksplit::cnode
