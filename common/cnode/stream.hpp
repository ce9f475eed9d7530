// One of the agent's distribution connections, never blocking: the socket is non-blocking,
// reads take what is there, writes queue what the peer has not taken. An accepted connection
// runs the handshake (AcceptHandshake) before its first packet; a connection ei made (to a
// local node) starts open. Packets are split and parsed by packet.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/cnode/handshake.hpp"
#include "common/cnode/packet.hpp"
#include "common/error.hpp"
#include "common/net/cidr.hpp"

namespace ticksplit::cnode {

class Stream {
 public:
  // Bytes queued for a peer that does not read, beyond which it is dropped: a few events
  // replies (about 200 KiB each) and any number of events.
  static constexpr std::size_t max_queued = 8u << 20;

  // An accepted socket: it must complete the handshake by `deadline`.
  static std::unique_ptr<Stream> accepted(int fd, AcceptHandshake handshake, clock::Monotonic::time_point deadline);
  // A socket ei connected and shook hands on; it is closed through ei.
  static std::unique_ptr<Stream> connected(int fd, std::string node);

  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] bool open() const noexcept { return !handshake_; }
  // The peer's node name: claimed in the handshake, proven by the cookie once open().
  [[nodiscard]] const std::string& node() const noexcept { return node_; }
  // The address at the other end of the socket (getpeername), if it has one.
  [[nodiscard]] const std::optional<net::Cidr>& peer_address() const noexcept { return peer_; }
  [[nodiscard]] clock::Monotonic::time_point deadline() const noexcept { return deadline_; }
  [[nodiscard]] short poll_events() const noexcept;
  [[nodiscard]] std::size_t queued() const noexcept { return out_.size() - sent_; }

  // One read of what the socket holds. Ticks are answered here; whole messages come back.
  // An error means the connection is unusable and must be dropped.
  Result<std::vector<Message>> on_readable();
  Status on_writable();

  Status send(const ei::Pid& to, const ei::XBuff& message);
  Status reg_send(const ei::Pid& from, const std::string& to_name, const ei::XBuff& message);

 private:
  Stream(int fd, std::string node);
  Status queue(std::string bytes);
  Status flush();
  Result<std::vector<Message>> packets();

  int fd_;
  std::string node_;
  std::optional<net::Cidr> peer_;
  std::optional<AcceptHandshake> handshake_;
  clock::Monotonic::time_point deadline_{};
  std::string in_;
  std::string out_;
  std::size_t sent_ = 0;  // bytes of out_ already written
  bool made_by_ei_ = false;
};

}  // namespace ticksplit::cnode
