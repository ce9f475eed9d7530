#include <doctest/doctest.h>

#include <arpa/inet.h>

#include "common/net/cidr.hpp"
#include "common/net/resolve.hpp"

using ticksplit::net::parse_cidr;
using ticksplit::net::is_unspecified;
using ticksplit::net::is_loopback;

TEST_CASE("addresses and CIDRs of both families parse") {
  auto a = parse_cidr("198.51.100.11");
  REQUIRE(a.ok());
  CHECK(a->family == AF_INET);
  CHECK(a->prefix == 32);
  CHECK(a->to_string() == "198.51.100.11/32");
  auto net6 = parse_cidr("2001:db8::/32");
  REQUIRE(net6.ok());
  CHECK(net6->family == AF_INET6);
  CHECK(net6->to_string() == "2001:db8::/32");
  CHECK(net6->contains(*parse_cidr("2001:db8::11")));
  CHECK_FALSE(net6->contains(*parse_cidr("2001:db9::1")));
  CHECK(parse_cidr("198.51.100.0/24")->contains(*a));
  CHECK_FALSE(parse_cidr("198.51.100.0/25")->contains(*parse_cidr("198.51.100.200")));
  CHECK_FALSE(parse_cidr("198.51.100.0/24")->contains(*parse_cidr("2001:db8::1")));
  CHECK(parse_cidr("0.0.0.0/0")->contains(*a));
}

TEST_CASE("bad CIDRs say why") {
  CHECK(parse_cidr("nope").error().message.find("unparsable") != std::string::npos);
  CHECK(parse_cidr("198.51.100.0/33").error().message.find("prefix") != std::string::npos);
  CHECK(parse_cidr("198.51.100.0/").error().message.find("prefix") != std::string::npos);
  CHECK(parse_cidr("198.51.100.1/24").error().message.find("host bits") != std::string::npos);
  CHECK_FALSE(parse_cidr("2001:db8::/129").ok());
  // The whole text is the address: a NUL used to end it for inet_pton, ignoring the rest.
  using namespace std::string_literals;
  CHECK(parse_cidr("198.51.100.12\0junk"s).error().message.find("NUL") != std::string::npos);
  CHECK_FALSE(parse_cidr("198.51.100.12 ").ok());
  CHECK_FALSE(parse_cidr("198.51.100.12/24\0"s).ok());
}

TEST_CASE("IPv4-mapped IPv6 comes back as IPv4, so every rule sees one form") {
  CHECK(parse_cidr("::ffff:127.0.0.1")->to_string() == "127.0.0.1/32");
  CHECK(is_loopback(*parse_cidr("::ffff:127.0.0.1")));
  CHECK(parse_cidr("::ffff:198.51.100.12")->to_string() == "198.51.100.12/32");
  CHECK(parse_cidr("::ffff:198.51.100.0/120")->to_string() == "198.51.100.0/24");
  CHECK(parse_cidr("::ffff:0:0/96")->to_string() == "0.0.0.0/0");
  CHECK(parse_cidr("::fffe:0:0/95")->family == AF_INET6);  // wider than the mapped range: left as it is
  CHECK(parse_cidr("2001:db8::ffff:c633:640c")->family == AF_INET6);
  CHECK(parse_cidr("198.51.100.1")->contains(*parse_cidr("::ffff:198.51.100.1")));
}

TEST_CASE("the unspecified addresses are told apart from blocks") {
  CHECK(is_unspecified(*parse_cidr("0.0.0.0")));
  CHECK(is_unspecified(*parse_cidr("::")));
  CHECK(is_unspecified(*parse_cidr("::ffff:0.0.0.0")));
  CHECK_FALSE(is_unspecified(*parse_cidr("0.0.0.0/0")));
  CHECK_FALSE(is_unspecified(*parse_cidr("198.51.100.12")));
}

