// Who may reach the agent (agent/access/): the --allow matcher against a brute-force oracle on
// random patterns and names, its cost on a pattern that makes naive backtracking exponential,
// the pattern bounds, and the --allow-from check on socket addresses (IPv4-mapped included).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include "agent/access/name_pattern.hpp"
#include "agent/access/peer_filter.hpp"

using namespace ticksplit;
using agent::access::name_allowed;
using agent::access::pattern_problem;
using agent::access::peer_allowed;
using agent::access::wildcard_match;

namespace {

// The definition, recursively: exponential, so only for short inputs.
bool oracle(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') return oracle(p.substr(1), s) || (!s.empty() && oracle(p, s.substr(1)));
  return !s.empty() && p[0] == s[0] && oracle(p.substr(1), s.substr(1));
}

std::string random_text(std::mt19937& rng, const char* alphabet, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::uniform_int_distribution<std::size_t> pick(0, std::strlen(alphabet) - 1);
  std::string s(len(rng), ' ');
  for (auto& c : s) c = alphabet[pick(rng)];
  return s;
}

sockaddr_storage v4(const char* a, socklen_t& len) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  REQUIRE(inet_pton(AF_INET, a, &in->sin_addr) == 1);
  len = sizeof *in;
  return ss;
}

sockaddr_storage v6(const char* a, socklen_t& len) {
  sockaddr_storage ss{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  in6->sin6_family = AF_INET6;
  REQUIRE(inet_pton(AF_INET6, a, &in6->sin6_addr) == 1);
  len = sizeof *in6;
  return ss;
}

std::vector<net::Cidr> blocks(std::initializer_list<const char*> texts) {
  std::vector<net::Cidr> out;
  for (const auto* t : texts) out.push_back(*net::parse_cidr(t));
  return out;
}

}  // namespace

TEST_CASE("--allow matcher: examples") {
  CHECK(wildcard_match("app@198.51.100.1*", "app@198.51.100.11"));
  CHECK(wildcard_match("app@198.51.100.1*", "app@198.51.100.1"));
  CHECK_FALSE(wildcard_match("app@198.51.100.1*", "intruder@198.51.100.11"));
  CHECK_FALSE(wildcard_match("app@198.51.100.1*", "xapp@198.51.100.11"));  // the whole name
  CHECK(wildcard_match("*", ""));
  CHECK(wildcard_match("*", "anything@at.all"));
  CHECK(wildcard_match("ctl_*@*", "ctl_status_42@host"));
  CHECK_FALSE(wildcard_match("ctl_*@*", "ctl_status_42"));
  CHECK(wildcard_match("a*b*c", "abc"));
  CHECK(wildcard_match("a*b*c", "aXbYbZc"));
  CHECK_FALSE(wildcard_match("a*b*c", "aXbYbZcd"));
  CHECK(wildcard_match("**a**", "a"));
  CHECK_FALSE(wildcard_match("", "a"));
  CHECK(wildcard_match("a.b", "a.b"));
  CHECK_FALSE(wildcard_match("a.b", "aXb"));  // a dot is a dot, not a regex
  CHECK_FALSE(wildcard_match("a?b", "aXb"));  // no ? wildcard
  CHECK(name_allowed({}, "whoever@host"));    // no --allow: everyone
  CHECK(name_allowed({"x@*", "app@*"}, "app@h"));
  CHECK_FALSE(name_allowed({"x@*", "app@*"}, "intruder@h"));
}

TEST_CASE("--allow matcher agrees with the recursive definition on random short patterns and names") {
  std::mt19937 rng(15);
  for (int i = 0; i < 200'000; ++i) {
    const auto p = random_text(rng, "ab*", 7);
    const auto s = random_text(rng, "ab", 9);
    INFO("pattern '" << p << "' name '" << s << "'");
    REQUIRE(wildcard_match(p, s) == oracle(p, s));
  }
}

TEST_CASE("--allow matcher: a pattern that makes backtracking exponential stays linear-ish") {
  // The recursive definition takes time exponential in the stars here; the two-pointer
  // matcher at most |pattern| x |name| steps: 10 x 255 for the longest node name.
  const std::string name(255, 'a');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(wildcard_match("*a*a*a*a*b", name));
    CHECK_FALSE(wildcard_match(std::string(254, '*') + "b", name));
  }
  CHECK(wildcard_match("*a*a*a*a*a", name));
  // 2000 worst-case matches; generous for a slow sanitizer build, far below exponential.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("--allow patterns are bounded and printable") {
  CHECK_FALSE(pattern_problem("app@198.51.100.1*"));
  CHECK_FALSE(pattern_problem(std::string(255, 'a')));
  CHECK(pattern_problem(""));
  CHECK(pattern_problem(std::string(256, 'a')));
  CHECK(pattern_problem("app @host"));
  CHECK(pattern_problem(std::string("app\0@h", 6)));
  CHECK(pattern_problem("app@h\n"));
  CHECK(pattern_problem("app@h\x7f"));
  CHECK(pattern_problem("app@h\xc3\xa9"));
}

TEST_CASE("--allow-from: the peer's address against the blocks, IPv4-mapped as IPv4") {
  socklen_t len = 0;
  const auto allowed = blocks({"198.51.100.1/32", "2001:db8:1::/48"});
  auto a = v4("198.51.100.1", len);
  CHECK(peer_allowed(a, len, allowed));
  a = v4("198.51.100.2", len);
  CHECK_FALSE(peer_allowed(a, len, allowed));
  CHECK(peer_allowed(a, len, {}));     // no --allow-from: everyone
  a = v6("::ffff:198.51.100.1", len);  // an IPv4 peer on a dual-stack socket
  CHECK(peer_allowed(a, len, allowed));
  CHECK(agent::access::peer_address(a, len) == *net::parse_cidr("198.51.100.1"));
  a = v6("::ffff:198.51.100.2", len);
  CHECK_FALSE(peer_allowed(a, len, allowed));
  a = v6("2001:db8:1:ffff::7", len);
  CHECK(peer_allowed(a, len, allowed));
  a = v6("2001:db8:2::7", len);
  CHECK_FALSE(peer_allowed(a, len, allowed));
  // An IPv4 block written in its mapped form holds IPv4 peers.
  a = v4("198.51.100.77", len);
  CHECK(peer_allowed(a, len, blocks({"::ffff:198.51.100.0/120"})));
  // ::198.51.100.1 (IPv4-compatible, deprecated) is not the IPv4 address.
  a = v6("::198.51.100.1", len);
  CHECK_FALSE(peer_allowed(a, len, allowed));
}

TEST_CASE("--allow-from: an address that cannot be read is refused") {
  socklen_t len = 0;
  const auto allowed = blocks({"0.0.0.0/0", "::/0"});
  auto a = v4("198.51.100.1", len);
  CHECK_FALSE(peer_allowed(a, len - 1, allowed));  // truncated
  a = v6("2001:db8::1", len);
  CHECK_FALSE(peer_allowed(a, sizeof(sockaddr_in), allowed));
  sockaddr_storage unix_peer{};
  unix_peer.ss_family = AF_UNIX;
  CHECK_FALSE(peer_allowed(unix_peer, sizeof unix_peer, allowed));
  CHECK(peer_allowed(unix_peer, sizeof unix_peer, {}));  // no --allow-from: as today
}
