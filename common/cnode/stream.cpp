#include "common/cnode/stream.hpp"

#include <ei.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>

#include "common/cnode/dist.hpp"
#include "common/net/resolve.hpp"

namespace ticksplit::cnode {

namespace {
// One read takes at most this much, so one busy peer cannot keep the loop from the others.
constexpr std::size_t kReadChunk = 64 << 10;

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// As Erlang's distribution does (dist_nodelay): with Nagle's algorithm a small reply written
// while an earlier one is unacknowledged waits for the peer's delayed ACK, 40 ms here (seen as
// one ping in a hundred answered in 40-44 ms while replies and events went out back to back).
void set_nodelay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // fails only for a non-TCP fd
}

std::optional<net::Cidr> peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return std::nullopt;
  return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
}
}  // namespace

Stream::Stream(int fd, std::string node) : fd_(fd), node_(std::move(node)), peer_(peer_of(fd)) {
  set_nonblocking(fd_);
  set_nodelay(fd_);
}

// ei keeps a table of the sockets it made; closing a dialled one through it keeps that table
// true. An accepted socket ei never saw is closed directly.
Stream::~Stream() {
  if (made_by_ei_)
    ei_close_connection(fd_);
  else
    ::close(fd_);
}

std::unique_ptr<Stream> Stream::accepted(int fd, AcceptHandshake handshake, clock::Monotonic::time_point deadline) {
  std::unique_ptr<Stream> s(new Stream(fd, ""));
  s->handshake_.emplace(std::move(handshake));
  s->deadline_ = deadline;
  return s;
}

std::unique_ptr<Stream> Stream::connected(int fd, std::string node) {
  std::unique_ptr<Stream> s(new Stream(fd, std::move(node)));
  s->made_by_ei_ = true;
  return s;
}

short Stream::poll_events() const noexcept { return static_cast<short>(POLLIN | (queued() > 0 ? POLLOUT : 0)); }

Result<std::vector<Message>> Stream::on_readable() {
  char buf[kReadChunk];
  const auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) return protocol_error("closed by the peer");
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return std::vector<Message>{};
    return system_error("recv", errno);
  }
  const std::string_view got(buf, static_cast<std::size_t>(n));
  if (!handshake_) {
    in_.append(got);
    return packets();
  }
  std::string reply;
  const auto state = handshake_->feed(got, reply);
  if (state == AcceptHandshake::State::failed) return protocol_error("handshake: " + handshake_->error());
  if (!reply.empty())
    if (auto s = queue(std::move(reply)); !s) return s.error();
  if (state == AcceptHandshake::State::awaiting_name) return std::vector<Message>{};
  node_ = handshake_->peer();
  if (state != AcceptHandshake::State::done) return std::vector<Message>{};
  in_ = handshake_->leftover();
  handshake_.reset();
  return packets();
}

Result<std::vector<Message>> Stream::packets() {
  std::vector<Message> out;
  std::size_t at = 0;
  bool ticked = false;
  for (;;) {
    auto p = next_packet(std::string_view(in_).substr(at));
    if (!p) return p.error();
    if (!*p) break;
    at += (*p)->size;
    if ((*p)->tick) {  // a tick wants an answer; one empty packet answers all of a read's
      ticked = true;
      continue;
    }
    auto m = parse_packet((*p)->body);
    if (!m) return m.error();
    out.push_back(std::move(m).value());
  }
  in_.erase(0, at);
  if (ticked)
    if (auto s = queue(std::string(4, '\0')); !s) return s.error();
  return out;
}

Status Stream::on_writable() { return flush(); }

Status Stream::send(const ei::Pid& to, const ei::XBuff& message) {
  auto bytes = frame_send(to, message);
  if (!bytes) return bytes.error();
  return queue(std::move(bytes).value());
}

Status Stream::reg_send(const ei::Pid& from, const std::string& to_name, const ei::XBuff& message) {
  auto bytes = frame_reg_send(from, to_name, message);
  if (!bytes) return bytes.error();
  return queue(std::move(bytes).value());
}

Status Stream::queue(std::string bytes) {
  if (queued() + bytes.size() > max_queued)
    return protocol_error("peer is not reading: " + std::to_string(queued()) + " bytes queued");
  if (sent_ > 0) {
    out_.erase(0, sent_);
    sent_ = 0;
  }
  out_ += bytes;
  return flush();
}

Status Stream::flush() {
  while (queued() > 0) {
    const auto n = ::send(fd_, out_.data() + sent_, queued(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return success();
      return system_error("send to " + (node_.empty() ? std::string("a peer") : node_), errno);
    }
    sent_ += static_cast<std::size_t>(n);
  }
  out_.clear();
  sent_ = 0;
  return success();
}

}  // namespace ticksplit::cnode
