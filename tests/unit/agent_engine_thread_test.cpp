// The engine on its own thread: the loop's side never waits for it, results come back in the
// order posted with their events first, the engine's deadlines fire without anyone asking,
// and the ledger follows the faults. The map is the recording fake; the clocks are real,
// since the thread sleeps until the engine's next deadline.
#include <doctest/doctest.h>

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/engine_thread.hpp"
#include "common/proto/fault_codec.hpp"
#include "fake_kernel.hpp"

using namespace ticksplit;
using namespace ticksplit::agent;

namespace {

class RealClockKernel final : public fault::Backend {
 public:
  test::FakeKernel fake;  // the map; read by the test only once the thread has stopped
  [[nodiscard]] std::string name() const override { return "fake, real clocks"; }
  fault::Clocks now() override {
    timespec r{}, m{};
    ::clock_gettime(CLOCK_REALTIME, &r);
    ::clock_gettime(CLOCK_MONOTONIC, &m);
    return {r.tv_sec * 1'000'000 + r.tv_nsec / 1000,
            static_cast<std::uint64_t>(m.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(m.tv_nsec)};
  }
  Status write(const bpf::DropKey& k, const bpf::DropValue& v) override { return fake.write(k, v); }
  Result<std::optional<bpf::DropValue>> read(const bpf::DropKey& k) override { return fake.read(k); }
  Status erase(const bpf::DropKey& k) override { return fake.erase(k); }
};

std::string temp_ledger() {
  char dir[] = "/tmp/engine_thread_test_XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return std::string(dir) + "/agent.faults.json";
}

fault::FaultSpec spec(const char* peer, std::int64_t ms) {
  fault::FaultSpec s;
  s.owner = "ctl@198.51.100.1";
  s.peers = {peer};
  s.addresses = {*net::parse_cidr(peer)};
  s.duration_ms = ms;
  return s;
}

EngineThread::Work apply(fault::FaultSpec s) {
  return [s = std::move(s)](fault::Engine& e, fault::Output& out) -> ei::Term {
    auto r = e.apply(s, out);
    if (const auto* why = std::get_if<proto::Refusal>(&r)) return ei::error_tuple(proto::to_term(*why));
    return ei::binary(std::get<std::string>(r));
  };
}

// What the loop sees: every event and reply delivered, in order, as text.
struct Loop {
  std::vector<std::string> seen;
  EngineThread::Record record() {
    return [this](fault::Output out) {
      for (const auto& e : out.events) seen.push_back(std::string("event ") + proto::event_type(e.event));
    };
  }
  EngineThread::Done done(std::string what) {
    return [this, what](ei::Term reply) { seen.push_back(what + " " + ei::to_string(reply)); };
  }
  // Waits (poll, at most 10 s) until results are ready, and delivers them.
  bool deliver(EngineThread& t) {
    pollfd p{t.event_fd(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return false;
    t.deliver(record());
    return true;
  }
  [[nodiscard]] bool has(const std::string& s) const { return std::find(seen.begin(), seen.end(), s) != seen.end(); }
};

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

}  // namespace

TEST_CASE("engine thread: posting never waits for the engine; results come back in order, events first") {
  RealClockKernel k;
  Ledger ledger("");
  EngineThread t(std::make_unique<fault::Engine>(k, fault::Policy{}), ledger);
  Loop loop;
  // The first work holds the engine until the test lets it go: the posts after it return at
  // once, and nothing is delivered before it finishes.
  std::promise<void> go;
  auto released = go.get_future().share();
  // If post() waited for the engine, the test would wait forever: a watchdog releases the
  // engine after 10 s, and the posts' time fails the test instead.
  std::once_flag once;
  const auto release = [&] { std::call_once(once, [&] { go.set_value(); }); };
  std::thread watchdog([released, &release] {
    if (released.wait_for(std::chrono::seconds(10)) == std::future_status::timeout) release();
  });
  const auto t0 = std::chrono::steady_clock::now();
  t.post([released](fault::Engine&, fault::Output&) {
    released.wait();
    return ei::atom("first");
  },
         loop.done("1"));
  t.post(apply(spec("198.51.100.12", 60'000)), loop.done("2"));
  t.post([](fault::Engine& e, fault::Output&) { return ei::Term(static_cast<std::int64_t>(e.size())); },
         loop.done("3"));
  const bool posted_at_once = std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5);
  CHECK(posted_at_once);
  CHECK_FALSE(readable(t.event_fd()));
  release();
  watchdog.join();
  while (loop.seen.size() < 4) REQUIRE(loop.deliver(t));
  REQUIRE(loop.seen.size() == 4);
  CHECK(loop.seen[0] == "1 first");
  CHECK(loop.seen[1] == "event fault_started");  // the events of a work before its reply
  CHECK(loop.seen[2].rfind("2 <<\"f1-", 0) == 0);
  CHECK(loop.seen[3] == "3 1");
  t.stop();
  CHECK(k.fake.map.size() == 1);
}

TEST_CASE("engine thread: the engine's deadlines fire on their own, without work posted") {
  RealClockKernel k;
  Ledger ledger("");
  EngineThread t(std::make_unique<fault::Engine>(k, fault::Policy{}), ledger);
  Loop loop;
  t.post([](fault::Engine& e, fault::Output&) {
    e.set_recovery_timeout_ms(0);
    return ei::atom("ok");
  });
  t.post(apply(spec("198.51.100.12", 50)), loop.done("applied"));
  // 50 ms later the thread heals it at its deadline; nothing answers from that peer, so with
  // a recovery timeout of 0 it is released at once, unrecovered.
  while (!loop.has("event fault_recovered")) REQUIRE(loop.deliver(t));
  const std::vector<std::string> order(loop.seen.begin(), loop.seen.begin() + 4);
  CHECK(order[0] == "event fault_started");
  CHECK(order[1].rfind("applied ", 0) == 0);
  CHECK(order[2] == "event fault_healed");
  CHECK(order[3] == "event fault_recovered");
  t.stop();
  CHECK(k.fake.map.empty());  // released: its entries erased
}

TEST_CASE("engine thread: a work that throws answers an error; stop runs what was posted, then the last") {
  RealClockKernel k;
  Ledger ledger("");
  EngineThread t(std::make_unique<fault::Engine>(k, fault::Policy{}), ledger);
  Loop loop;
  t.post([](fault::Engine&, fault::Output&) -> ei::Term { throw std::runtime_error("boom"); }, loop.done("thrown"));
  t.post(apply(spec("198.51.100.12", 60'000)), loop.done("applied"));
  t.stop(
      [](fault::Engine& e, fault::Output& out) {
        return ei::Term(static_cast<std::int64_t>(e.heal_all(fault::HealReason::shutdown, out)));
      },
      loop.done("last"));
  t.deliver(loop.record());
  REQUIRE(loop.seen.size() == 5);
  CHECK(loop.seen[0] == "thrown {error,{internal,<<\"boom\">>}}");
  CHECK(loop.seen[1] == "event fault_started");
  CHECK(loop.seen[2].rfind("applied ", 0) == 0);
  CHECK(loop.seen[3] == "event fault_healed");
  CHECK(loop.seen[4] == "last 1");
}

TEST_CASE("engine thread: the ledger follows the faults not yet over") {
  const auto path = temp_ledger();
  RealClockKernel k;
  Ledger ledger(path);
  REQUIRE(ledger.lock().ok());
  EngineThread t(std::make_unique<fault::Engine>(k, fault::Policy{}), ledger);
  Loop loop;
  t.post(apply(spec("198.51.100.12", 60'000)), loop.done("applied"));
  while (!loop.has("event fault_started")) REQUIRE(loop.deliver(t));
  auto listed = Ledger(path).read();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().peers == std::vector<std::string>{"198.51.100.12"});
  t.post([](fault::Engine& e, fault::Output& out) {
    return ei::Term(static_cast<std::int64_t>(e.heal_all(fault::HealReason::heal_all, out)));
  },
         loop.done("healed"));
  while (!loop.has("healed 1")) REQUIRE(loop.deliver(t));
  CHECK(Ledger(path).read()->empty());
  t.stop();
  ledger.remove();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
