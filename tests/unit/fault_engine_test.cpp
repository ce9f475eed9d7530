// The fault engine against the recording fake of the kernel seam: which entries each spec
// writes, how overlapping faults compose, heal order, deadlines, recovery, clock conversion.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "agent/fault/engine.hpp"
#include "agent/fault/peers.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/net/resolve.hpp"
#include "fake_kernel.hpp"

using namespace ticksplit;
using agent::fault::Engine;
using Events = agent::fault::Output;
using proto::FaultHealed;
using proto::FaultRecovered;
using proto::FaultStarted;
using agent::fault::FaultSpec;
using test::FakeKernel;

namespace {

net::Cidr addr(const char* text) { return *net::parse_cidr(text); }
agent::bpf::DropKey in(const char* a) { return agent::fault::drop_key(addr(a), true); }
agent::bpf::DropKey out(const char* a) { return agent::fault::drop_key(addr(a), false); }

agent::fault::Policy policy() {
  agent::fault::Policy p;
  p.exempt = {addr("198.51.100.1"), addr("2001:db8::1")};
  p.local = {addr("198.51.100.11"), addr("127.0.0.1")};
  p.max_fault_ms = 60'000;
  return p;
}

FaultSpec spec(std::vector<const char*> peers, std::int64_t ms, proto::Direction d = proto::Direction::in) {
  FaultSpec s;
  s.owner = "ctl@198.51.100.1";
  for (const auto* p : peers) {
    s.peers.emplace_back(p);
    s.addresses.push_back(addr(p));
  }
  s.duration_ms = ms;
  s.direction = d;
  return s;
}

std::string applied(Engine& e, const FaultSpec& s, Events& ev) {
  auto r = e.apply(s, ev);
  REQUIRE_MESSAGE(std::holds_alternative<std::string>(r),
                  (std::holds_alternative<proto::Refusal>(r) ? ei::to_string(proto::to_term(std::get<proto::Refusal>(r)))
                                                             : ""));
  return std::get<std::string>(r);
}

// The refusal as the caller reads it ({error, Reason}'s Reason, printed): the engine's typed
// refusal through the one codec.
std::string refused(Engine& e, const FaultSpec& s) {
  Events ev;
  auto r = e.apply(s, ev);
  REQUIRE(std::holds_alternative<proto::Refusal>(r));
  return ei::to_string(proto::to_term(std::get<proto::Refusal>(r)));
}

// The first event of type T, if any.
template <class T>
const T* find(const Events& ev) {
  for (const auto& e : ev.events)
    if (const auto* x = std::get_if<T>(&e.event)) return x;
  return nullptr;
}

// How many events of type T satisfy `pred`.
template <class T, class Pred>
int count(const Events& ev, Pred pred) {
  int n = 0;
  for (const auto& e : ev.events)
    if (const auto* x = std::get_if<T>(&e.event)) n += pred(*x) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("clock conversion goes through one reading of both clocks") {
  const agent::fault::Clocks c{1'700'000'000'000'000, 5'000'000'000};
  CHECK(agent::fault::unix_to_mono_ns(1'700'000'000'500'000, c) == 5'500'000'000);
  CHECK(agent::fault::unix_to_mono_ns(1'699'999'999'000'000, c) == 4'000'000'000);
  CHECK(agent::fault::unix_to_mono_ns(0, c) == 0);  // before boot: clamped, never wraps
  // Any caller's time saturates instead of overflowing (a wrap once started a fault 584 years
  // ahead at once).
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  CHECK(agent::fault::unix_to_mono_ns(std::numeric_limits<std::int64_t>::max(), c) == kMax);
  CHECK(agent::fault::unix_to_mono_ns(std::numeric_limits<std::int64_t>::min(), c) == 0);
  CHECK(agent::fault::unix_to_mono_ns(c.unix_us + 9'300'000'000'000'000, c) == kMax);  // *1000 overflows
  CHECK(agent::fault::mono_to_unix_us(5'250'000'000, c) == 1'700'000'000'250'000);
  CHECK(agent::fault::mono_to_unix_us(4'000'000'000, c) == 1'699'999'999'000'000);
}

TEST_CASE("each direction writes its entries, one window each, and starts at once") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  SUBCASE("in (the default) drops what arrives from the peer") {
    applied(e, spec({"198.51.100.12"}, 3000), ev);
    CHECK(k.log == std::vector<std::string>{"write in 198.51.100.12 0..3000"});
  }
  SUBCASE("out drops what leaves for it") {
    applied(e, spec({"198.51.100.12"}, 3000, proto::Direction::out), ev);
    CHECK(k.log == std::vector<std::string>{"write out 198.51.100.12 0..3000"});
  }
  SUBCASE("both, for IPv4 and IPv6 peers") {
    applied(e, spec({"198.51.100.12", "2001:db8::12"}, 1500, proto::Direction::both), ev);
    CHECK(k.log == std::vector<std::string>{"write in 198.51.100.12 0..1500", "write out 198.51.100.12 0..1500",
                                            "write in 2001:db8::12 0..1500", "write out 2001:db8::12 0..1500"});
  }
  REQUIRE(find<FaultStarted>(ev) != nullptr);
  CHECK(find<FaultStarted>(ev)->start_us == k.clocks.unix_us);
  CHECK(e.size() == 1);
}

TEST_CASE("CIDR peers expand to their addresses; node peers resolve their host") {
  auto r = agent::fault::resolve_peers({{"198.51.100.16/30", false}, {"app@198.51.100.12", true}}, net::resolve_host);
  REQUIRE(std::holds_alternative<std::vector<net::Cidr>>(r));
  const auto& a = std::get<std::vector<net::Cidr>>(r);
  REQUIRE(a.size() == 5);
  CHECK(a[0] == addr("198.51.100.16"));
  CHECK(a[3] == addr("198.51.100.19"));
  CHECK(a[4] == addr("198.51.100.12"));
  auto v6 = agent::fault::resolve_peers({{"2001:db8::10/126", false}}, net::resolve_host);
  CHECK(std::get<std::vector<net::Cidr>>(v6).size() == 4);

  const auto why = [](std::vector<proto::Peer> p) {
    return ei::to_string(proto::to_term(std::get<proto::Refusal>(agent::fault::resolve_peers(p, net::resolve_host))));
  };
  CHECK(why({{"198.51.0.0/16", false}}).find("peer_block_too_large") != std::string::npos);
  CHECK(why({{"2001:db8::/32", false}}).find("peer_block_too_large") != std::string::npos);
  CHECK(why({{"not-an-address", false}}).find("bad_peer") != std::string::npos);
  // (a malformed name is refused before any resolver is asked: no DNS traffic from tests)
  CHECK(why({{"app@no_such host!", true}}).find("unresolvable_peer") != std::string::npos);
}

TEST_CASE("peers: host names are what must be looked up first, and resolve_peers asks only its resolver") {
  const std::vector<proto::Peer> peers{{"a@db1.example", true},     {"198.51.100.20", false},
                                       {"b@198.51.100.21", true},  {"c@db1.example", true},
                                       {"d@2001:db8::22", true},   {"e@db2.example", true}};
  // Literals need no resolver; each name once, in the order first named.
  CHECK(agent::fault::peer_host_names(peers) == std::vector<std::string>{"db1.example", "db2.example"});
  std::vector<std::string> asked;
  const auto fake = [&](const std::string& host) -> Result<std::vector<net::Cidr>> {
    asked.push_back(host);
    if (host == "db1.example") return std::vector<net::Cidr>{addr("198.51.100.31"), addr("2001:db8::31")};
    if (host == "db2.example") return Error{Domain::system, 0, "timed out"};
    return net::resolve_host(host);  // the literals
  };
  auto refused = agent::fault::resolve_peers(peers, fake);
  REQUIRE(std::holds_alternative<proto::Refusal>(refused));
  CHECK(std::get<proto::Refusal>(refused) ==
        proto::Refusal{proto::Refusal::Kind::unresolvable_peer, "e@db2.example", "timed out", 0, 0});
  const std::vector<proto::Peer> good(peers.begin(), peers.end() - 1);
  auto r = agent::fault::resolve_peers(good, fake);
  REQUIRE(std::holds_alternative<std::vector<net::Cidr>>(r));
  CHECK(std::get<std::vector<net::Cidr>>(r) ==
        std::vector<net::Cidr>{addr("198.51.100.31"), addr("2001:db8::31"), addr("198.51.100.20"),
                               addr("198.51.100.21"), addr("2001:db8::22")});
  // asked for each node peer naming it (a@, c@) in each of the two calls: no resolver of its own
  CHECK(std::count(asked.begin(), asked.end(), "db1.example") == 4);
}

TEST_CASE("peers: duplicates count once, in first-requested order; a request is bounded") {
  auto r = agent::fault::resolve_peers(
      {{"198.51.100.18", false}, {"198.51.100.16/30", false}, {"198.51.100.17", false}}, net::resolve_host);
  const auto& a = std::get<std::vector<net::Cidr>>(r);
  REQUIRE(a.size() == 4);
  CHECK(a[0] == addr("198.51.100.18"));
  CHECK(a[1] == addr("198.51.100.16"));
  CHECK(a[3] == addr("198.51.100.19"));

  // Four /116 blocks are the limit; sixteen (65,536 addresses: seconds of work on the loop
  // before, with a linear search per address) are refused naming it, after the fifth block.
  std::vector<proto::Peer> blocks;
  for (int i = 0; i < 16; ++i) blocks.push_back({"2001:db8:0:" + std::to_string(i) + "::/116", false});
  const std::vector<proto::Peer> four(blocks.begin(), blocks.begin() + 4);
  CHECK(std::get<std::vector<net::Cidr>>(agent::fault::resolve_peers(four, net::resolve_host)).size() ==
        agent::fault::max_request_addresses);
  const auto t0 = std::chrono::steady_clock::now();
  auto refused_many = agent::fault::resolve_peers(blocks, net::resolve_host);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(std::holds_alternative<proto::Refusal>(refused_many));
  CHECK(ei::to_string(proto::to_term(std::get<proto::Refusal>(refused_many))) == "{too_many_addresses,16384}");
  MESSAGE("16 /116 blocks refused in " << ms << " ms");
}

TEST_CASE("a fault the map could not hold is refused before any entry is written") {
  FakeKernel k;
  auto p = policy();
  p.max_map_entries = 3;
  Engine e(k, p);
  Events ev;
  applied(e, spec({"198.51.100.12"}, 1000, proto::Direction::both), ev);  // two entries
  CHECK(refused(e, spec({"198.51.100.13", "198.51.100.14"}, 1000)) == "{agent_address_limit,2,1}");
  CHECK(k.map.size() == 2);
  // A key already in the map costs nothing more: the same peer again fits.
  applied(e, spec({"198.51.100.12"}, 1000), ev);
  applied(e, spec({"198.51.100.13"}, 1000), ev);
  CHECK(k.map.size() == 3);
}

TEST_CASE("refusals name the reason and leave the map untouched") {
  FakeKernel k;
  Engine e(k, policy());
  CHECK(refused(e, spec({"198.51.100.12"}, 0)) == "{bad_duration,0}");
  CHECK(refused(e, spec({"198.51.100.12"}, 60'001)) == "{duration_above_max_fault,60001,60000}");
  CHECK(refused(e, spec({}, 1000)) == "no_peers");
  CHECK(refused(e, spec({"198.51.100.1"}, 1000)) == "{exempt,<<\"198.51.100.1\">>}");
  CHECK(refused(e, spec({"198.51.100.12", "2001:db8::1"}, 1000)) == "{exempt,<<\"2001:db8::1\">>}");
  CHECK(refused(e, spec({"127.0.0.5"}, 1000)) == "{loopback,<<\"127.0.0.5\">>}");
  CHECK(refused(e, spec({"::1"}, 1000)) == "{loopback,<<\"::1\">>}");
  CHECK(refused(e, spec({"198.51.100.11"}, 1000)) == "{own_address,<<\"198.51.100.11\">>}");
  CHECK(refused(e, spec({"0.0.0.0"}, 1000)) == "{unspecified,<<\"0.0.0.0\">>}");
  CHECK(refused(e, spec({"::"}, 1000)) == "{unspecified,<<\"::\">>}");
  // IPv4-mapped forms meet the same rules as the IPv4 ones (they reach the engine normalised)
  CHECK(refused(e, spec({"::ffff:127.0.0.1"}, 1000)) == "{loopback,<<\"127.0.0.1\">>}");
  CHECK(refused(e, spec({"::ffff:198.51.100.1"}, 1000)) == "{exempt,<<\"198.51.100.1\">>}");
  CHECK(refused(e, spec({"::ffff:198.51.100.11"}, 1000)) == "{own_address,<<\"198.51.100.11\">>}");
  auto s = spec({"198.51.100.13"}, 1000);
  s.owner_addresses = {addr("198.51.100.13")};
  CHECK(refused(e, s) == "{requester_address,<<\"198.51.100.13\">>}");
  auto past = spec({"198.51.100.12"}, 1000);
  past.start_at_us = k.clocks.unix_us - 2'000'000;
  CHECK(refused(e, past).find("already_over") != std::string::npos);
  auto far = spec({"198.51.100.12"}, 1000);
  far.start_at_us = k.clocks.unix_us + 61'000'000;
  CHECK(refused(e, far).find("starts_later_than_max_fault") != std::string::npos);
  for (const std::int64_t hostile : {std::numeric_limits<std::int64_t>::max(), k.clocks.unix_us + 18'446'744'073'709'551}) {
    far.start_at_us = hostile;  // 584 years ahead, and just past what the monotonic clock can hold
    CHECK(refused(e, far).find("starts_later_than_max_fault") != std::string::npos);
  }
  past.start_at_us = std::numeric_limits<std::int64_t>::min();
  CHECK(refused(e, past).find("already_over") != std::string::npos);
  CHECK(k.log.empty());
  CHECK(e.size() == 0);

  Events ev;
  auto named = spec({"198.51.100.12"}, 1000);
  named.id = "mine";
  CHECK(applied(e, named, ev) == "mine");
  CHECK(refused(e, named) == "{duplicate_id,<<\"mine\">>}");
}

TEST_CASE("a backend failure undoes the fault: no entry stays") {
  FakeKernel k;
  Engine e(k, policy());
  k.fail_writes_after = 1;
  CHECK(refused(e, spec({"198.51.100.12", "198.51.100.13"}, 1000)).find("backend") != std::string::npos);
  CHECK(k.map.empty());
  CHECK(e.size() == 0);
  CHECK(e.entries() == 0);
}

TEST_CASE("start_at_us in the future: pending until then, armed in the kernel already") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto s = spec({"198.51.100.12"}, 1000);
  s.start_at_us = k.clocks.unix_us + 500'000;
  applied(e, s, ev);
  CHECK(k.log == std::vector<std::string>{"write in 198.51.100.12 500..1500"});
  CHECK(ev.events.empty());
  CHECK(e.next_due_ns() == k.clocks.mono_ns + 500'000'000);
  CHECK_FALSE(k.packet(in("198.51.100.12")));  // not yet
  k.advance_ms(500);
  CHECK(k.packet(in("198.51.100.12")));  // the kernel starts it, not the engine
  e.tick(ev);
  REQUIRE(find<FaultStarted>(ev) != nullptr);
  CHECK(find<FaultStarted>(ev)->start_us == k.clocks.unix_us);
}

TEST_CASE("a deadline heals with evidence; traffic back gives the effective outage") {
  FakeKernel k;
  Engine e(k, policy());
  e.set_recovery_timeout_ms(4000);
  Events ev;
  const auto id = applied(e, spec({"198.51.100.12"}, 3000), ev);
  const auto start_us = k.clocks.unix_us;
  k.advance_ms(100);
  CHECK(k.packet(in("198.51.100.12"), 60));
  k.advance_ms(2000);
  CHECK(k.packet(in("198.51.100.12"), 40));
  CHECK(e.next_due_ns() == k.clocks.mono_ns + 900'000'000);
  k.advance_ms(900);
  CHECK_FALSE(k.packet(out("198.51.100.12")));  // never cut
  e.tick(ev);
  const auto* healed = find<FaultHealed>(ev);
  REQUIRE(healed != nullptr);
  CHECK(healed->reason == proto::HealReason::deadline);
  CHECK(healed->evidence.dropped_packets == 2);
  CHECK(healed->evidence.dropped_bytes == 100);
  CHECK(healed->evidence.first_drop_us == start_us + 100'000);
  CHECK(healed->evidence.last_drop_us == start_us + 2'100'000);
  CHECK(healed->end_us == start_us + 3'000'000);
  CHECK(find<FaultRecovered>(ev) == nullptr);

  k.advance_ms(250);  // TCP's retransmission: the peer is heard 250 ms after the window
  CHECK_FALSE(k.packet(in("198.51.100.12")));
  k.advance_ms(20);
  e.tick(ev);
  const auto* rec = find<FaultRecovered>(ev);
  REQUIRE(rec != nullptr);
  CHECK(rec->recovered);
  CHECK(rec->effective_outage_us == 3'250'000);
  CHECK(e.size() == 0);
  CHECK(k.map.empty());  // the entry goes with its last fault
  CHECK(e.heal(id, ev) == Engine::Healed::already);
  CHECK(e.heal("nope", ev) == Engine::Healed::not_found);
}

TEST_CASE("a peer that stays silent is reported unrecovered after 2T") {
  FakeKernel k;
  Engine e(k, policy());
  e.set_recovery_timeout_ms(4000);
  Events ev;
  applied(e, spec({"198.51.100.12", "198.51.100.13"}, 1000), ev);
  k.advance_ms(1000);
  e.tick(ev);
  k.advance_ms(10);
  CHECK_FALSE(k.packet(in("198.51.100.13")));
  for (int i = 0; i < 200 && find<FaultRecovered>(ev) == nullptr; ++i) {
    k.advance_ms(20);
    e.tick(ev);
  }
  REQUIRE(find<FaultRecovered>(ev) != nullptr);
  const auto& timed = ev.events.back();  // the recovery is the last event
  const auto* rec = std::get_if<FaultRecovered>(&timed.event);
  REQUIRE(rec != nullptr);
  CHECK_FALSE(rec->recovered);
  CHECK(rec->effective_outage_us == 1'010'000);  // the largest of those that came back
  CHECK(std::any_of(rec->per_peer.begin(), rec->per_peer.end(), [](auto& p) { return !p.outage_us && !p.recovered; }));
  CHECK(timed.time_us == k.clocks.unix_us);
}

TEST_CASE("overlapping faults compose: the peer stays dropped while any covers it, in either heal order") {
  for (bool a_first : {true, false}) {
    CAPTURE(a_first);
    FakeKernel k;
    Engine e(k, policy());
    Events ev;
    const auto a = applied(e, spec({"198.51.100.12"}, 3000), ev);
    k.advance_ms(1000);
    const auto b = applied(e, spec({"198.51.100.12", "198.51.100.13"}, 4000), ev);
    CHECK(k.log.back() == "write in 198.51.100.13 1000..5000");
    CHECK(k.map.at(in("198.51.100.12")).end_ns == k.clocks.mono_ns + 4'000'000'000);  // the union
    k.advance_ms(500);
    REQUIRE(e.heal(a_first ? a : b, ev) == Engine::Healed::now);
    CHECK(k.packet(in("198.51.100.12")));  // the other one still covers it
    k.advance_ms(100);
    REQUIRE(e.heal(a_first ? b : a, ev) == Engine::Healed::now);
    CHECK_FALSE(k.packet(in("198.51.100.12")));  // both healed: back at once
    CHECK_FALSE(k.packet(in("198.51.100.13")));
    k.advance_ms(20);
    e.tick(ev);
    CHECK(count<FaultRecovered>(ev, [](auto& x) { return x.recovered; }) == 2);
    CHECK(k.map.empty());
  }
}

TEST_CASE("disjoint windows on one peer: the next stretch is written when the first ends") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto later = spec({"198.51.100.12"}, 1000);
  later.start_at_us = k.clocks.unix_us + 2'000'000;
  applied(e, spec({"198.51.100.12"}, 1000), ev);
  applied(e, later, ev);
  CHECK(k.map.at(in("198.51.100.12")).end_ns == k.clocks.mono_ns + 1'000'000'000);
  CHECK(k.packet(in("198.51.100.12")));
  k.advance_ms(1000);
  e.tick(ev);
  CHECK(k.log.back() == "write in 198.51.100.12 2000..3000");
  CHECK_FALSE(k.packet(in("198.51.100.12")));
  k.advance_ms(1000);
  CHECK(k.packet(in("198.51.100.12")));
  e.tick(ev);
  k.advance_ms(1000);
  e.tick(ev);
  CHECK(count<FaultHealed>(ev, [](auto&) { return true; }) == 2);
  CHECK(count<FaultHealed>(ev, [](auto& x) { return x.evidence.dropped_packets == 1; }) == 2);  // each its own
}

TEST_CASE("a lossy fault writes its probability; its evidence counts what it dropped and what it spared") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto s = spec({"198.51.100.12"}, 3000);
  s.loss = proto::Loss{300'000};
  applied(e, s, ev);
  CHECK(k.log == std::vector<std::string>{"write in 198.51.100.12 0..3000 loss 300000"});
  REQUIRE(find<FaultStarted>(ev) != nullptr);
  CHECK(find<FaultStarted>(ev)->loss == proto::Loss{300'000});
  int dropped = 0;
  for (int i = 0; i < 1000; ++i) dropped += k.packet(in("198.51.100.12")) ? 1 : 0;
  CHECK(dropped > 250);  // 300 expected; the fake's draws are fixed, so this is exact each run
  CHECK(dropped < 350);
  REQUIRE(e.status(ev).size() == 1);
  CHECK(e.status(ev)[0].passed_packets == 1000 - dropped);
  CHECK(e.status(ev)[0].loss == proto::Loss{300'000});
  k.advance_ms(3000);
  e.tick(ev);
  const auto* healed = find<FaultHealed>(ev);
  REQUIRE(healed != nullptr);
  CHECK(healed->evidence.dropped_packets == dropped);
  CHECK(healed->evidence.passed_packets == 1000 - dropped);
  CHECK(refused(e, [] {
          auto none = spec({"198.51.100.12"}, 10);
          none.loss = proto::Loss{0};
          return none;
        }()) == "{bad_loss,0}");
}

TEST_CASE("overlapping faults with different loss: the strongest applies, stretch by stretch") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto weak = spec({"198.51.100.12"}, 10'000);
  weak.loss = proto::Loss{200'000};
  auto strong = spec({"198.51.100.12"}, 3000);
  strong.start_at_us = k.clocks.unix_us + 2'000'000;
  auto middling = spec({"198.51.100.12"}, 9000);
  middling.loss = proto::Loss{500'000};
  middling.start_at_us = k.clocks.unix_us + 4'000'000;
  applied(e, weak, ev);
  const auto strong_id = applied(e, strong, ev);
  applied(e, middling, ev);
  // weak alone until 2 s, strong (total) 2..5, then middling to 13 s (it outlasts weak's 10).
  // Until strong starts the weak stretch runs on under the stronger ones: nothing is ever
  // dropped less than the weakest running fault asks, even if the engine is late or dead.
  CHECK(k.log == std::vector<std::string>{"write in 198.51.100.12 0..10000 loss 200000",
                                          "write in 198.51.100.12 0..13000 loss 200000"});
  for (int i = 0; i < 10; ++i) k.packet(in("198.51.100.12"));
  k.advance_ms(2000);
  e.tick(ev);
  CHECK(k.log.back() == "write in 198.51.100.12 2000..5000");
  CHECK(k.packet(in("198.51.100.12")));
  CHECK(k.map.at(in("198.51.100.12")).first_pass_after_ns == 0);
  k.advance_ms(3000);
  CHECK_FALSE(k.packet(in("198.51.100.12")));  // between the kernel's end of strong's stretch and the write
  CHECK(k.map.at(in("198.51.100.12")).first_pass_after_ns != 0);
  e.tick(ev);
  // middling began at 4 s; with strong healed it is the strongest
  CHECK(k.log.back() == "write in 198.51.100.12 4000..13000 loss 500000");
  CHECK(k.map.at(in("198.51.100.12")).first_pass_after_ns == 0);  // not traffic coming back
  const FaultHealed* strong_healed = nullptr;
  for (const auto& x : ev.events)
    if (const auto* h = std::get_if<FaultHealed>(&x.event); h != nullptr && h->id == strong_id) strong_healed = h;
  REQUIRE(strong_healed != nullptr);
  // strong's evidence starts at its own start: the weak stretch's drops and spares are not its
  CHECK(strong_healed->evidence.dropped_packets == 1);
  CHECK(strong_healed->evidence.passed_packets == 0);
  k.advance_ms(5000);
  const auto writes = k.log.size();
  e.tick(ev);  // weak's deadline: middling's stretch is already the one written
  CHECK(k.log.size() == writes);
  k.advance_ms(3000);
  e.tick(ev);
  CHECK(count<FaultHealed>(ev, [](auto&) { return true; }) == 3);
}

TEST_CASE("a stronger fault starting inside a weaker one: no hole before its start, the weaker runs on if no one writes") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto weak = spec({"198.51.100.12"}, 10'000);
  weak.loss = proto::Loss{200'000};
  auto strong = spec({"198.51.100.12"}, 3000);
  strong.start_at_us = k.clocks.unix_us + 2'000'000;
  applied(e, weak, ev);
  applied(e, strong, ev);
  CHECK(k.log.back() == "write in 198.51.100.12 0..10000 loss 200000");
  k.advance_ms(6000);  // the engine never ticked (a dead agent): the weak fault still holds
  int dropped = 0;
  for (int i = 0; i < 200; ++i) dropped += k.packet(in("198.51.100.12")) ? 1 : 0;
  CHECK(dropped > 0);
  CHECK(dropped < 200);
}

// Against a brute force: at every step, what the kernel holds for the peer is the largest loss
// of the faults whose planned windows cover that instant, or no drop when none does.
TEST_CASE("overlapping lossy faults: the kernel's entry matches the brute force at every instant") {
  std::uint64_t seed = 42;
  const auto next = [&](std::uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    FakeKernel k;
    Engine e(k, policy());
    Events ev;
    struct Planned {
      std::int64_t start_ms, end_ms;
      std::uint32_t ppm;
    };
    std::vector<Planned> plans;
    const int n = 1 + static_cast<int>(next(4));
    for (int i = 0; i < n; ++i) {
      auto s = spec({"198.51.100.12"}, 100 * static_cast<std::int64_t>(1 + next(30)));
      const auto start_ms = 100 * static_cast<std::int64_t>(next(30));
      s.start_at_us = k.clocks.unix_us + start_ms * 1000;
      static const std::uint32_t losses[] = {100'000, 500'000, 900'000, 1'000'000};
      s.loss = proto::Loss{losses[next(4)]};
      applied(e, s, ev);
      plans.push_back({start_ms, start_ms + s.duration_ms, s.loss.ppm});
    }
    for (std::int64_t t = 0; t <= 6000; t += 50) {
      e.tick(ev);
      std::uint32_t want = 0;
      for (const auto& p : plans)
        if (p.start_ms <= t && t < p.end_ms) want = std::max(want, p.ppm);
      CAPTURE(t);
      const auto it = k.map.find(in("198.51.100.12"));
      const bool open = it != k.map.end() && FakeKernel::rel_ms(it->second.start_ns) <= t &&
                        t < FakeKernel::rel_ms(it->second.end_ns);
      CHECK(open == (want != 0));
      if (open) CHECK(it->second.drop_below == agent::bpf::drop_below_of_ppm(want));
      k.advance_ms(50);
    }
    CHECK(count<FaultHealed>(ev, [](auto& h) { return h.reason == proto::HealReason::deadline; }) == n);
  }
}

TEST_CASE("heal_owner heals only that node's faults; heal_all the rest; a pending fault just goes") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto mine = spec({"198.51.100.12"}, 5000);
  mine.owner = "test@198.51.100.1";
  applied(e, mine, ev);
  applied(e, spec({"198.51.100.13"}, 5000), ev);
  auto pending = spec({"198.51.100.14"}, 5000);
  pending.start_at_us = k.clocks.unix_us + 1'000'000;
  applied(e, pending, ev);
  ev = {};
  CHECK(e.heal_owner("test@198.51.100.1", ev) == 1);
  REQUIRE(find<FaultHealed>(ev) != nullptr);
  CHECK(find<FaultHealed>(ev)->reason == proto::HealReason::owner_gone);
  CHECK_FALSE(k.packet(in("198.51.100.12")));
  CHECK(k.packet(in("198.51.100.13")));
  ev = {};
  CHECK(e.heal_all(agent::fault::HealReason::shutdown, ev) == 2);
  CHECK_FALSE(k.packet(in("198.51.100.13")));
  CHECK(k.map.count(in("198.51.100.14")) == 0);  // never started: removed at once
  CHECK(count<FaultHealed>(ev, [](auto& x) { return !x.started; }) == 1);
}

TEST_CASE("status lists each fault with its state and counters so far") {
  FakeKernel k;
  Engine e(k, policy());
  Events ev;
  auto s = spec({"198.51.100.12"}, 5000);
  s.id = "f";
  applied(e, s, ev);
  k.packet(in("198.51.100.12"));
  auto st = e.status(ev);
  REQUIRE(st.size() == 1);
  CHECK(st[0].state == proto::FaultStatus::State::active);
  CHECK(st[0].dropped_packets == 1);
  CHECK(st[0].id == "f");
  CHECK(st[0].addresses == proto::AddressList{{"198.51.100.12"}, 1});
  // and as the agent sends it
  const auto t = proto::to_term(st[0]);
  CHECK(t.get("state")->is_atom("active"));
  CHECK(*t.get("dropped_packets") == ei::Term(1));
  CHECK(*t.get("id") == ei::binary("f"));
}
