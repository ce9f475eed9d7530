// Host names looked up on a thread: results once every name is done, what was found so far for
// a caller that stops waiting, and a cap on threads alive (abandoned ones included), with the
// resolver faked so that a lookup can be held as long as the test wants.
#include <doctest/doctest.h>

#include <poll.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "common/net/lookup.hpp"

using namespace ticksplit;

namespace {

// A resolver that answers db1 at once and holds every other name until `released`.
net::Resolver held_until(std::shared_future<void> released) {
  return [released](const std::string& host) -> Result<std::vector<net::Cidr>> {
    if (host == "db1.example") return std::vector<net::Cidr>{*net::parse_cidr("198.51.100.31")};
    released.wait();
    return Error{Domain::system, 0, "cannot resolve '" + host + "'"};
  };
}

template <typename Cond>
bool await(Cond cond) {  // polls the condition for at most 10 s
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE("lookup: every name's result once all are done; so_far what is done already") {
  std::promise<void> go;
  net::Lookup l({"db1.example", "db2.example"}, held_until(go.get_future().share()));
  REQUIRE(await([&] { return l.so_far().count("db1.example") == 1; }));
  CHECK(l.so_far().count("db2.example") == 0);
  CHECK_FALSE(l.take());  // db2 still at work
  go.set_value();
  pollfd p{l.event_fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10'000) == 1);
  auto found = l.take();
  REQUIRE(found);
  REQUIRE(found->size() == 2);
  CHECK(found->at("db1.example").value() == std::vector<net::Cidr>{*net::parse_cidr("198.51.100.31")});
  CHECK_FALSE(found->at("db2.example"));
}

TEST_CASE("lookup: at most max_threads alive, abandoned lookups counting until their resolver returns") {
  REQUIRE(await([] { return net::Lookup::threads() == 0; }));  // the case above has ended
  std::promise<void> go;
  const auto released = go.get_future().share();
  std::vector<std::unique_ptr<net::Lookup>> held;
  for (std::size_t i = 0; i < net::Lookup::max_threads; ++i)
    held.push_back(std::make_unique<net::Lookup>(std::vector<std::string>{"slow.example"}, held_until(released)));
  CHECK(net::Lookup::threads() == net::Lookup::max_threads);
  CHECK_THROWS_AS(net::Lookup({"slow.example"}, held_until(released)), ConfigError);
  held.clear();  // abandoned: their threads still wait for the resolver, and still count
  CHECK_THROWS_AS(net::Lookup({"slow.example"}, held_until(released)), ConfigError);
  go.set_value();
  REQUIRE(await([] { return net::Lookup::threads() == 0; }));
  net::Lookup again({"db1.example"}, held_until(released));
  pollfd p{again.event_fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10'000) == 1);
  CHECK(again.take());
}
