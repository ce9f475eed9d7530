// The drop program in the real kernel (root): the verifier accepts it, and run on crafted
// packets (BPF_PROG_TEST_RUN) it drops exactly inside the window, with the entry's
// probability, and records evidence.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <linux/pkt_cls.h>

#include <cmath>
#include <ctime>
#include <vector>

#include "agent/bpf/drop_map.hpp"
#include "agent/bpf/program.hpp"
#include "agent/bpf/syscall.hpp"

using namespace ticksplit::agent::bpf;

namespace {

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// An Ethernet frame carrying an IPv4 (or IPv6) header from `src` to `dst`.
std::vector<std::uint8_t> frame(const char* src, const char* dst) {
  const bool v6 = std::string(src).find(':') != std::string::npos;
  std::vector<std::uint8_t> f(14 + (v6 ? 40 : 20) + 8, 0);
  f[12] = v6 ? 0x86 : 0x08;
  f[13] = v6 ? 0xdd : 0x00;
  if (v6) {
    f[14] = 0x60;
    f[14 + 4] = 0;
    f[14 + 5] = 8;   // payload length
    f[14 + 6] = 17;  // UDP
    f[14 + 7] = 64;
    inet_pton(AF_INET6, src, &f[14 + 8]);
    inet_pton(AF_INET6, dst, &f[14 + 24]);
  } else {
    f[14] = 0x45;
    f[14 + 3] = static_cast<std::uint8_t>(f.size() - 14);
    f[14 + 8] = 64;
    f[14 + 9] = 17;
    inet_pton(AF_INET, src, &f[14 + 12]);
    inet_pton(AF_INET, dst, &f[14 + 16]);
  }
  return f;
}

DropKey key(Kind kind, const char* addr) {
  DropKey k{};
  k.kind = static_cast<std::uint32_t>(kind);
  const bool v6 = kind == Kind::in_v6 || kind == Kind::out_v6;
  inet_pton(v6 ? AF_INET6 : AF_INET, addr, k.addr);
  return k;
}

struct Loaded {
  ticksplit::Fd map;
  ticksplit::Fd in, out;
};

Loaded load() {
  auto map = create_hash_map(sizeof(DropKey), sizeof(DropValue), 1024, "ts_test");
  REQUIRE_MESSAGE(map.ok(), (map.ok() ? "" : map.error().describe()));
  auto in = load_classifier(drop_program(Hook::ingress, map->get()), "ts_test_in");
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.error().describe()));
  auto out = load_classifier(drop_program(Hook::egress, map->get()), "ts_test_out");
  REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().describe()));
  return {std::move(map).value(), std::move(in).value(), std::move(out).value()};
}

std::int32_t run(int prog, const std::vector<std::uint8_t>& f) {
  auto r = test_run(prog, f);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().describe()));
  return *r;
}

}  // namespace

TEST_CASE("the verifier accepts both programs") { load(); }

TEST_CASE("a packet from a peer with an open window is dropped and counted") {
  auto l = load();
  const auto k = key(Kind::in_v4, "198.51.100.12");
  DropValue v{};
  v.start_ns = now_ns() - 1'000'000;
  v.end_ns = now_ns() + 60'000'000'000ULL;
  v.drop_below = always_drop;
  REQUIRE(map_update(l.map.get(), &k, &v).ok());

  const auto from_peer = frame("198.51.100.12", "198.51.100.11");
  CHECK(run(l.in.get(), from_peer) == TC_ACT_SHOT);
  CHECK(run(l.in.get(), from_peer) == TC_ACT_SHOT);
  CHECK(run(l.in.get(), frame("198.51.100.13", "198.51.100.11")) == TC_ACT_UNSPEC);   // another peer
  CHECK(run(l.out.get(), frame("198.51.100.11", "198.51.100.12")) == TC_ACT_UNSPEC);  // only `in` is cut

  DropValue got{};
  REQUIRE(*map_lookup(l.map.get(), &k, &got));
  CHECK(got.dropped_packets == 2);
  CHECK(got.dropped_bytes == 2 * from_peer.size());
  CHECK(got.first_drop_ns >= v.start_ns);
  CHECK(got.last_drop_ns >= got.first_drop_ns);
  CHECK(got.first_pass_after_ns == 0);
}

TEST_CASE("before the window nothing is dropped; after it the first passing packet is recorded") {
  auto l = load();
  const auto k = key(Kind::out_v4, "198.51.100.12");
  DropValue future{};
  future.start_ns = now_ns() + 60'000'000'000ULL;
  future.end_ns = future.start_ns + 1'000'000'000ULL;
  future.drop_below = always_drop;
  REQUIRE(map_update(l.map.get(), &k, &future).ok());
  const auto to_peer = frame("198.51.100.11", "198.51.100.12");
  CHECK(run(l.out.get(), to_peer) == TC_ACT_UNSPEC);

  DropValue past{};
  past.start_ns = now_ns() - 2'000'000'000ULL;
  past.end_ns = now_ns() - 1'000'000'000ULL;
  past.drop_below = always_drop;
  REQUIRE(map_update(l.map.get(), &k, &past).ok());
  const auto before = now_ns();
  CHECK(run(l.out.get(), to_peer) == TC_ACT_UNSPEC);
  DropValue got{};
  REQUIRE(*map_lookup(l.map.get(), &k, &got));
  CHECK(got.dropped_packets == 0);
  CHECK(got.first_pass_after_ns >= before);
  const auto first = got.first_pass_after_ns;
  CHECK(run(l.out.get(), to_peer) == TC_ACT_UNSPEC);
  REQUIRE(*map_lookup(l.map.get(), &k, &got));
  CHECK(got.first_pass_after_ns == first);  // only the first one
}

TEST_CASE("IPv6 peers are matched by their 128-bit address") {
  auto l = load();
  const auto k = key(Kind::in_v6, "2001:db8::12");
  DropValue v{};
  v.start_ns = 0;
  v.end_ns = now_ns() + 60'000'000'000ULL;
  v.drop_below = always_drop;
  REQUIRE(map_update(l.map.get(), &k, &v).ok());
  CHECK(run(l.in.get(), frame("2001:db8::12", "2001:db8::11")) == TC_ACT_SHOT);
  CHECK(run(l.in.get(), frame("2001:db8::13", "2001:db8::11")) == TC_ACT_UNSPEC);
  CHECK(run(l.in.get(), frame("198.51.100.12", "198.51.100.11")) == TC_ACT_UNSPEC);  // v4 key is another key
}

TEST_CASE("deleting an entry ends its fault; deleting it again is not an error") {
  auto l = load();
  const auto k = key(Kind::in_v4, "198.51.100.12");
  DropValue v{};
  v.end_ns = now_ns() + 60'000'000'000ULL;
  v.drop_below = always_drop;
  REQUIRE(map_update(l.map.get(), &k, &v).ok());
  CHECK(run(l.in.get(), frame("198.51.100.12", "198.51.100.11")) == TC_ACT_SHOT);
  REQUIRE(map_delete(l.map.get(), &k).ok());
  CHECK(map_delete(l.map.get(), &k).ok());
  CHECK(run(l.in.get(), frame("198.51.100.12", "198.51.100.11")) == TC_ACT_UNSPEC);
}

// A repeated run returns only the last verdict, so the drops are counted by the program's own
// counters: over n packets, dropped ~ Binomial(n, P).
TEST_CASE("a lossy window drops each packet with its probability, and counts the ones it spares") {
  auto l = load();
  const auto from_peer = frame("198.51.100.12", "198.51.100.11");
  constexpr std::uint32_t n = 10'000;
  for (std::uint32_t ppm : {500'000u, 300'000u, 20'000u, 1u}) {
    CAPTURE(ppm);
    const auto k = key(Kind::in_v4, "198.51.100.12");
    DropValue v{};
    v.end_ns = now_ns() + 60'000'000'000ULL;
    v.drop_below = drop_below_of_ppm(ppm);
    REQUIRE(map_update(l.map.get(), &k, &v).ok());
    auto ran = test_run_ns(l.in.get(), from_peer, n);
    REQUIRE_MESSAGE(ran.ok(), (ran.ok() ? "" : ran.error().describe()));
    DropValue got{};
    REQUIRE(*map_lookup(l.map.get(), &k, &got));
    CHECK(got.dropped_packets + got.passed_packets == n);
    const double p = ppm / 1e6;
    const double sd = std::sqrt(n * p * (1 - p));
    CHECK(std::abs(static_cast<double>(got.dropped_packets) - n * p) <= 5 * sd + 0.5);
    CHECK(got.dropped_bytes == got.dropped_packets * from_peer.size());
  }
}

TEST_CASE("probability 1 drops every packet and 0 none; the draw is skipped at 1") {
  auto l = load();
  const auto k = key(Kind::out_v6, "2001:db8::12");
  const auto to_peer = frame("2001:db8::11", "2001:db8::12");
  DropValue v{};
  v.end_ns = now_ns() + 60'000'000'000ULL;
  v.drop_below = drop_below_of_ppm(1'000'000);
  CHECK(v.drop_below == always_drop);
  REQUIRE(map_update(l.map.get(), &k, &v).ok());
  REQUIRE(test_run_ns(l.out.get(), to_peer, 1000).ok());
  DropValue got{};
  REQUIRE(*map_lookup(l.map.get(), &k, &got));
  CHECK(got.dropped_packets == 1000);
  CHECK(got.passed_packets == 0);

  v.drop_below = 0;
  REQUIRE(map_update(l.map.get(), &k, &v).ok());
  CHECK(run(l.out.get(), to_peer) == TC_ACT_UNSPEC);
  REQUIRE(*map_lookup(l.map.get(), &k, &got));
  CHECK(got.dropped_packets == 0);
  CHECK(got.passed_packets == 1);
}
