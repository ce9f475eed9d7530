#include <doctest/doctest.h>

#include <ei.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "common/cnode/dist.hpp"
#include "common/cnode/stream.hpp"
#include "common/ei/encode.hpp"

using namespace ticksplit;
using namespace ticksplit::cnode;

using ticksplit::cnode::dist::get_be;
using ticksplit::cnode::dist::put_be;

namespace {
// Dialled streams close through ei, whose socket table ei_init sets up (the agent calls it first).
const int kEiReady = ei_init();

struct Pair {
  int ours = -1, theirs = -1;
  Pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    ours = sv[0];
    theirs = sv[1];
  }
  ~Pair() { ::close(theirs); }  // ours belongs to the Stream
};

std::string read_all(int fd) {
  std::string got;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return got;
    got.append(buf, static_cast<std::size_t>(n));
  }
}
const ei::Pid kTo{"app@198.51.100.12", 1, 0, 1};
}  // namespace

TEST_CASE("an open stream answers ticks and returns whole messages, however the bytes arrive") {
  Pair p;
  REQUIRE(kEiReady == 0);
  auto s = Stream::connected(p.ours, "app@198.51.100.12");
  CHECK(s->open());
  auto msg = ei::encode(ei::atom("hi"));
  auto framed = frame_reg_send(kTo, "ticksplit", *msg);
  const std::string in = std::string(4, '\0') + *framed;
  for (std::size_t i = 0; i < in.size(); ++i) {  // one byte at a time
    REQUIRE(::send(p.theirs, &in[i], 1, 0) == 1);
    auto got = s->on_readable();
    REQUIRE(got.ok());
    if (i + 1 < in.size()) {
      CHECK(got->empty());
    } else {
      REQUIRE(got->size() == 1);
      CHECK((*got)[0].to_name == "ticksplit");
    }
  }
  CHECK(read_all(p.theirs) == std::string(4, '\0'));  // the tick's answer
}

TEST_CASE("a peer that stops reading is refused past the queue limit, never waited for") {
  Pair p;
  auto s = Stream::connected(p.ours, "app@198.51.100.12");
  auto msg = ei::encode(ei::binary(std::string(1 << 20, 'x')));
  Status last = success();
  int sent = 0;
  for (; sent < 64 && last.ok(); ++sent) last = s->send(kTo, *msg);
  CHECK(!last.ok());
  CHECK(last.error().message.find("not reading") != std::string::npos);
  CHECK(s->queued() <= Stream::max_queued);
  CHECK(sent < 64);
}

TEST_CASE("a header above the packet limit ends the stream before its body") {
  Pair p;
  auto s = Stream::connected(p.ours, "app@198.51.100.12");
  std::string h;
  put_be(h, dist::kMaxPacket + 1, 4);
  REQUIRE(::send(p.theirs, h.data(), h.size(), 0) == 4);
  auto got = s->on_readable();
  REQUIRE(!got.ok());
  CHECK(got.error().message.find("above the limit") != std::string::npos);
}

TEST_CASE("an accepted stream opens only through the handshake, and a peer's close is an error") {
  Pair p;
  auto s = Stream::accepted(p.ours, AcceptHandshake({"ticksplit@198.51.100.11", "cookie", 1}, 99),
                            clock::Monotonic::now());
  CHECK(!s->open());
  std::string name = "N";
  put_be(name, dist::kOurs, 8);
  put_be(name, 1, 4);
  const std::string node = "app@198.51.100.12";
  put_be(name, node.size(), 2);
  name += node;
  std::string m;
  put_be(m, name.size(), 2);
  m += name;
  REQUIRE(::send(p.theirs, m.data(), m.size(), 0) == static_cast<ssize_t>(m.size()));
  REQUIRE(s->on_readable().ok());
  CHECK(!s->open());
  CHECK(read_all(p.theirs).substr(0, 5) == std::string("\0\3sok", 5));
  std::string r = "r";
  put_be(r, 5, 4);
  const auto d = *handshake_digest("cookie", 99);
  r.append(reinterpret_cast<const char*>(d.data()), d.size());
  std::string rm;
  put_be(rm, r.size(), 2);
  rm += r;
  REQUIRE(::send(p.theirs, rm.data(), rm.size(), 0) == static_cast<ssize_t>(rm.size()));
  REQUIRE(s->on_readable().ok());
  CHECK(s->open());
  CHECK(s->node() == node);
  CHECK(read_all(p.theirs).size() == 2 + 17);  // the ack
  ::shutdown(p.theirs, SHUT_WR);
  CHECK(!s->on_readable().ok());
}
