#include <doctest/doctest.h>

#include <arpa/inet.h>

#include "common/duration.hpp"
#include "common/net/cidr.hpp"

using ticksplit::net::parse_cidr;

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
}

TEST_CASE("durations need a unit and a positive value") {
  using ticksplit::parse_duration_ms;
  CHECK(*parse_duration_ms("500ms") == 500);
  CHECK(*parse_duration_ms("30s") == 30000);
  CHECK(*parse_duration_ms("10m") == 600000);
  CHECK(*parse_duration_ms("1h") == 3600000);
  CHECK(parse_duration_ms("10").error().message.find("unit") != std::string::npos);
  CHECK(parse_duration_ms("0s").error().message.find("positive") != std::string::npos);
  CHECK(parse_duration_ms("-3s").error().message.find("positive") != std::string::npos);
  CHECK_FALSE(parse_duration_ms("s").ok());
  CHECK_FALSE(parse_duration_ms("99999999999999999h").ok());
}
