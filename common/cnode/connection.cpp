#include "common/cnode/connection.hpp"

#include <cerrno>
#include <cstring>

#include "common/ei/encode.hpp"
#include "common/ei/native.hpp"

namespace ticksplit::cnode {

Error ei_error(const std::string& context) {
  const int err = erl_errno;
  return Error{Domain::ei, err, context + (err != 0 ? std::string(": ") + std::strerror(err) : "")};
}

Result<Connection::Got> Connection::receive(erlang_msg& msg, ei::XBuff& payload, unsigned timeout_ms) {
  payload.clear();
  const int r = ei_xreceive_msg_tmo(fd_, &msg, payload.get(), timeout_ms);
  if (r == ERL_TICK) return Got::tick;
  if (r == ERL_MSG) return Got::message;
  if (erl_errno == EAGAIN) return Got::nothing;
  // ETIMEDOUT here means a message arrived in part: the stream is out of step, so the
  // connection is as good as closed.
  return ei_error("receive from " + node_);
}

Status Connection::send(const ei::Pid& to, const ei::XBuff& encoded, unsigned timeout_ms) {
  auto pid = ei::to_erlang_pid(to);
  if (!pid) return pid.error();
  if (ei_send_tmo(fd_, &*pid, const_cast<char*>(encoded.data()), static_cast<int>(encoded.size()), timeout_ms) < 0)
    return ei_error("send to " + node_);
  return success();
}

Status Connection::send(const ei::Pid& to, const ei::Term& message, unsigned timeout_ms) {
  auto x = ei::encode(message);
  if (!x) return x.error();
  return send(to, *x, timeout_ms);
}

Status Connection::reg_send(ei_cnode* ec, const char* name, const ei::Term& message, unsigned timeout_ms) {
  auto x = ei::encode(message);
  if (!x) return x.error();
  if (ei_reg_send_tmo(ec, fd_, const_cast<char*>(name), const_cast<char*>(x->data()), static_cast<int>(x->size()),
                      timeout_ms) < 0)
    return ei_error(std::string("send to ") + name + " on " + node_);
  return success();
}

Status Connection::rpc(ei_cnode* ec, const char* mod, const char* fun, const ei::Term& args) {
  ei::XBuff x;  // ei_rpc_to wants the argument list without a version byte
  if (auto s = ei::encode_term(args, x); !s) return s;
  // ei_rpc_to takes char* but only reads the names
  if (ei_rpc_to(ec, fd_, const_cast<char*>(mod), const_cast<char*>(fun), x.data(), static_cast<int>(x.size())) < 0)
    return ei_error(std::string("rpc ") + mod + ":" + fun + " on " + node_);
  return success();
}

}  // namespace ticksplit::cnode
