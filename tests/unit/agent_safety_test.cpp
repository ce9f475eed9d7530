#include <doctest/doctest.h>

#include "agent/safety.hpp"

using namespace ticksplit;
using namespace ticksplit::agent;

namespace {
net::Cidr addr(const char* text) { return *net::parse_cidr(text); }

// A host with one address, resolving app hosts by a table; anything else fails.
AddressSource fake(Result<std::vector<net::Cidr>> local) {
  return {[local]() { return local; },
          [](const std::string& host) -> Result<std::vector<net::Cidr>> {
            if (host == "198.51.100.11") return std::vector<net::Cidr>{addr("198.51.100.11")};
            if (host == "db") return std::vector<net::Cidr>{addr("198.51.100.21"), addr("2001:db8::21")};
            return Error{Domain::system, 0, "cannot resolve '" + host + "'"};
          }};
}
Options with_nodes(std::vector<std::string> nodes) {
  Options o;
  o.nodes = std::move(nodes);
  return o;
}
}  // namespace

TEST_CASE("the policy holds this host's addresses and every --node host's") {
  auto p = make_policy(with_nodes({"app@198.51.100.11", "x@db"}), fake(std::vector<net::Cidr>{addr("127.0.0.1")}));
  REQUIRE(p.ok());
  CHECK(p->local == std::vector<net::Cidr>{addr("127.0.0.1"), addr("198.51.100.11"), addr("198.51.100.21"),
                                           addr("2001:db8::21")});
}

TEST_CASE("no policy, so no agent, without this host's addresses") {
  auto failed = make_policy(with_nodes({}), fake(Error{Domain::system, 24, "getifaddrs: Too many open files"}));
  REQUIRE(!failed.ok());
  CHECK(failed.error().message == "cannot list this host's addresses: getifaddrs: Too many open files");
  auto empty = make_policy(with_nodes({}), fake(std::vector<net::Cidr>{}));
  REQUIRE(!empty.ok());
  CHECK(empty.error().message == "this host has no address to protect");
}

TEST_CASE("no policy when a --node host does not resolve") {
  auto p = make_policy(with_nodes({"app@198.51.100.11", "app@nowhere"}),
                       fake(std::vector<net::Cidr>{addr("127.0.0.1")}));
  REQUIRE(!p.ok());
  CHECK(p.error().message == "--node app@nowhere: cannot resolve 'nowhere'");
}

TEST_CASE("a requester is spared by its host's addresses and its connection's") {
  auto a = requester_addresses("ctl@db", addr("198.51.100.99"), fake(std::vector<net::Cidr>{}));
  REQUIRE(a.ok());
  CHECK(*a == std::vector<net::Cidr>{addr("198.51.100.21"), addr("2001:db8::21"), addr("198.51.100.99")});
  auto same = requester_addresses("ctl@198.51.100.11", addr("198.51.100.11"), fake(std::vector<net::Cidr>{}));
  REQUIRE(same.ok());
  CHECK(same->size() == 1);
}

TEST_CASE("a requester whose host does not resolve has no addresses, even with a peer address") {
  auto a = requester_addresses("ctl@nowhere", addr("198.51.100.99"), fake(std::vector<net::Cidr>{}));
  CHECK(!a.ok());
  CHECK(!requester_addresses("nohost", std::nullopt, fake(std::vector<net::Cidr>{})).ok());
}
