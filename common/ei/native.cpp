#include "common/ei/native.hpp"

#include <cstring>

namespace ticksplit::ei {

Result<erlang_pid> to_erlang_pid(const Pid& p) {
  erlang_pid e{};
  if (p.node.size() >= sizeof e.node) return codec_error("pid node name too long to encode: " + p.node);
  std::memcpy(e.node, p.node.c_str(), p.node.size() + 1);
  e.num = p.num;
  e.serial = p.serial;
  e.creation = p.creation;
  return e;
}

Pid from_erlang_pid(const erlang_pid& p) { return Pid{p.node, p.num, p.serial, p.creation}; }

}  // namespace ticksplit::ei
