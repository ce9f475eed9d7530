#include "common/cnode/packet.hpp"

#include "common/cnode/dist.hpp"
#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"

namespace ticksplit::cnode {

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The control tuple is small (an op, two pids or a pid and a name, a trace token); it gets
// limits of its own so that the message after it keeps the decoder's.
constexpr ei::DecodeLimits kControlLimits{64 << 10, 64, 8};

Result<std::string> frame(const ei::Term& control, const ei::XBuff& message) {
  auto c = ei::encode(control);
  if (!c) return c.error();
  const std::size_t len = 1 + c->size() + message.size();
  if (len > dist::kMaxPacket) return codec_error("message of " + std::to_string(len) + " bytes is too large to send");
  std::string out;
  out.reserve(4 + len);
  dist::put_be(out, len, 4);
  out.push_back(static_cast<char>(dist::kPassThrough));
  out.append(c->data(), c->size());
  out.append(message.data(), message.size());
  return out;
}

}  // namespace

Result<std::optional<Packet>> next_packet(std::string_view buf) {
  if (buf.size() < 4) return std::optional<Packet>{};
  const std::size_t len = dist::get_be(buf, 0, 4);
  if (len > dist::kMaxPacket)
    return protocol_error("packet of " + std::to_string(len) + " bytes, above the limit of " +
                          std::to_string(dist::kMaxPacket));
  if (buf.size() < 4 + len) return std::optional<Packet>{};
  return std::optional<Packet>{Packet{len == 0, buf.substr(4, len), 4 + len}};
}

Result<Message> parse_packet(std::string_view body) {
  if (body.empty() || static_cast<std::uint8_t>(body[0]) != dist::kPassThrough)
    return protocol_error("packet without the pass-through tag (we announced no distribution header)");
  body.remove_prefix(1);
  auto control = ei::decode_prefix(bytes_of(body), kControlLimits);
  if (!control) return protocol_error("bad control message: " + control.error().message);
  const auto* tuple = control->term.as<ei::Tuple>();
  const std::vector<ei::Term> none;
  const auto& t = tuple != nullptr ? tuple->items : none;
  const auto* op = !t.empty() ? t[0].as<std::int64_t>() : nullptr;
  if (op == nullptr) return protocol_error("control message is not a tuple starting with an operation");
  Message m;
  m.op = *op;
  const bool send = m.op == dist::op::send || m.op == dist::op::send_tt;
  const bool reg_send = m.op == dist::op::reg_send || m.op == dist::op::reg_send_tt;
  if (!send && !reg_send) return m;  // links, monitors, exits: nothing for a C-node to do
  if (reg_send) {
    // {6, From, Unused, ToName} or {16, From, Unused, ToName, TraceToken}
    const auto* from = t.size() >= 4 ? t[1].as<ei::Pid>() : nullptr;
    const auto* name = t.size() >= 4 ? t[3].as<ei::Atom>() : nullptr;
    if (from == nullptr || name == nullptr) return protocol_error("malformed REG_SEND control message");
    m.from = *from;
    m.to_name = name->name;
  } else if (t.size() < 3 || t[2].as<ei::Pid>() == nullptr) {  // {2, Unused, To}
    return protocol_error("malformed SEND control message");
  }
  m.payload = std::string(body.substr(control->used));
  if (m.payload.empty()) return protocol_error("SEND without a message");
  return m;
}

Result<std::string> frame_send(const ei::Pid& to, const ei::XBuff& message) {
  return frame(ei::tuple({std::int64_t{dist::op::send}, ei::atom(""), ei::Term(to)}), message);
}

Result<std::string> frame_reg_send(const ei::Pid& from, const std::string& to_name, const ei::XBuff& message) {
  return frame(ei::tuple({std::int64_t{dist::op::reg_send}, ei::Term(from), ei::atom(""), ei::atom(to_name)}),
               message);
}

}  // namespace ticksplit::cnode
