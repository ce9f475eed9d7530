#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <memory>

#include "agent/ledger.hpp"

using namespace ticksplit;
using namespace ticksplit::agent;

namespace {
std::string temp_path() {
  char dir[] = "/tmp/ledger_test_XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return std::string(dir) + "/agent.faults.json";
}
const fault::Planned kOne{"f1", "ctl@198.51.100.1", {"198.51.100.12", "app@198.51.100.13"}, 1000, 61000};
}  // namespace

TEST_CASE("a ledger reads back what it wrote, and nothing once removed") {
  const auto path = temp_path();
  Ledger l(path);
  CHECK(l.read()->empty());  // no file yet
  fault::Planned odd = kOne;
  odd.id = std::string("tab\tquote\"nl\n", 13);
  // A pause: the node's process and its guard, each with its start time (a reused pid has another).
  const fault::Planned pause{"p1", "ctl@198.51.100.1", {}, 2000, 5000,
                             fault::PausedProcess{"app@198.51.100.11", 4242, 987654321, 4300, 987654999}};
  REQUIRE(l.write({kOne, odd, pause}).ok());
  auto back = Ledger(path).read();
  REQUIRE(back.ok());
  CHECK(*back == std::vector<fault::Planned>{kOne, odd, pause});
  l.remove();
  CHECK(Ledger(path).read()->empty());
}

TEST_CASE("a corrupt ledger is an error, not an empty one") {
  const auto path = temp_path();
  std::ofstream(path) << "{\"faults\":[{\"id\":1}]}";
  auto r = Ledger(path).read();
  REQUIRE(!r.ok());
  CHECK(r.error().message.find("is corrupt") != std::string::npos);
  std::ofstream(path) << "not json";
  CHECK(!Ledger(path).read().ok());
}

TEST_CASE("no path, no ledger") {
  Ledger l("");
  CHECK(l.write({kOne}).ok());
  CHECK(l.read()->empty());
}

TEST_CASE("one agent per ledger: a second lock fails while the first is held") {
  const auto path = temp_path();
  auto first = std::make_unique<Ledger>(path);
  REQUIRE(first->lock().ok());
  Ledger second(path);
  auto refused = second.lock();
  REQUIRE(!refused.ok());
  CHECK(refused.error().message.find("another agent of this name") != std::string::npos);
  first.reset();  // a killed agent's lock goes with it
  CHECK(second.lock().ok());
}
