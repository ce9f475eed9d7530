// Erlang's distribution protocol, the parts the agent speaks itself: capability flags, the
// control operations it reads, and the sizes it accepts. Values are OTP's (dist.hrl and the
// "Distribution Protocol" chapter of ERTS' user guide).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/node_name.hpp"

namespace ticksplit::cnode::dist {

namespace flag {
constexpr std::uint64_t extended_references = 0x4;
constexpr std::uint64_t dist_monitor = 0x8;
constexpr std::uint64_t fun_tags = 0x10;
constexpr std::uint64_t new_fun_tags = 0x80;
constexpr std::uint64_t extended_pids_ports = 0x100;
constexpr std::uint64_t export_ptr_tag = 0x200;
constexpr std::uint64_t bit_binaries = 0x400;
constexpr std::uint64_t new_floats = 0x800;
constexpr std::uint64_t small_atom_tags = 0x4000;
constexpr std::uint64_t utf8_atoms = 0x10000;
constexpr std::uint64_t map_tag = 0x20000;
constexpr std::uint64_t big_creation = 0x40000;
constexpr std::uint64_t handshake_23 = 0x1000000;
constexpr std::uint64_t unlink_id = 0x2000000;
constexpr std::uint64_t mandatory_25_digest = 0x4000000;
constexpr std::uint64_t v4_nc = std::uint64_t{1} << 34;
}  // namespace flag

// What a peer must support (OTP 25's mandatory set); a peer announcing mandatory_25_digest
// has them all by definition.
constexpr std::uint64_t kMandatory = flag::extended_references | flag::fun_tags | flag::extended_pids_ports |
                                     flag::utf8_atoms | flag::new_fun_tags | flag::big_creation | flag::new_floats |
                                     flag::map_tag | flag::export_ptr_tag | flag::bit_binaries | flag::handshake_23;

// Exactly what erl_interface 5.3 (OTP 25) announces (read off its handshake), so a peer
// encodes for us as it did for ei: no atom cache, no fragments, no send_sender.
constexpr std::uint64_t kOurs = kMandatory | flag::dist_monitor | flag::small_atom_tags | flag::unlink_id |
                                flag::mandatory_25_digest | flag::v4_nc;
static_assert(kOurs == 0x407074f9c);

// Control operations (the first element of the control tuple).
namespace op {
constexpr std::int64_t send = 2;
constexpr std::int64_t reg_send = 6;
constexpr std::int64_t send_tt = 12;
constexpr std::int64_t reg_send_tt = 16;
}  // namespace op

constexpr std::uint8_t kPassThrough = 112;  // 'p': a packet without a distribution header
constexpr std::size_t kMaxNodeName = max_node_name;  // ei's MAXNODELEN
// Handshake messages are a name and a few fixed fields; anything longer is not a handshake.
constexpr std::size_t kMaxHandshakeMessage = 1 + 8 + 4 + 2 + kMaxNodeName;
// The largest packet read after the handshake: the decoder's message limit plus the control
// tuple. A header announcing more ends the connection before a byte of it is buffered.
constexpr std::size_t kMaxPacket = (4u << 20) + 4096;

// Big-endian integers of n bytes, as every length and field of the protocol is written. The
// caller has checked that `at + n` bytes are there.
inline std::uint64_t get_be(std::string_view s, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[at + i]);
  return v;
}
inline void put_be(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace ticksplit::cnode::dist
