// Joining local nodes against a fake of the loop: dials are scripted (their results set by the
// test), the connections are the fake's (it calls back opened()/lost() as the loop does), the
// clock is the test's. What is checked: the install sequence and what joining reports, the
// backoff that doubles and resets, the deadlines of a dial and of an install step, a node
// that reaches the agent first, and that only a local node's own connection (installing or
// joined) speaks for it.
#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/node_joiner.hpp"
#include "common/ei/term.hpp"

using namespace ticksplit;
using agent::LocalNode;
using agent::NodeJoiner;
using ei::atom;
using ei::Term;

namespace {

struct ScriptedDial final : NodeJoiner::Dial {
  int fd;
  std::shared_ptr<Result<int>> result;  // EAGAIN: still at work
  std::shared_ptr<bool> abandoned;
  ScriptedDial(int event_fd, std::shared_ptr<Result<int>> r, std::shared_ptr<bool> gone)
      : fd(event_fd), result(std::move(r)), abandoned(std::move(gone)) {}
  ~ScriptedDial() override { *abandoned = true; }
  [[nodiscard]] int event_fd() const override { return fd; }
  Result<int> take() override { return *result; }
};

struct FakeLoop final : NodeJoiner::Ports {
  NodeJoiner* joiner = nullptr;
  int next_event_fd = 100;
  struct Dialled {
    std::string node;
    std::shared_ptr<Result<int>> result = std::make_shared<Result<int>>(Error{Domain::system, EAGAIN, "at work"});
    std::shared_ptr<bool> abandoned = std::make_shared<bool>(false);
  };
  std::vector<Dialled> dials;
  std::vector<std::pair<int, std::string>> rpcs;  // (fd, function)
  std::vector<std::pair<int, std::string>> dropped;
  std::vector<int> discarded;
  std::vector<std::string> joined_nodes;
  std::vector<proto::Event> events;

  std::unique_ptr<NodeJoiner::Dial> dial(const std::string& node) override {
    dials.push_back({node});
    return std::make_unique<ScriptedDial>(next_event_fd++, dials.back().result, dials.back().abandoned);
  }
  void connected(int fd, const std::string& node) override { joiner->opened(fd, node); }
  void discard(int fd) override { discarded.push_back(fd); }
  void rpc(int fd, const agent::watcher::Call& call) override { rpcs.emplace_back(fd, call.fun); }
  void drop(int fd, const std::string& why) override {
    dropped.emplace_back(fd, why);
    joiner->lost(fd, why);
  }
  void joined(const LocalNode& node) override { joined_nodes.push_back(node.name); }
  void record(proto::Event event) override { events.push_back(std::move(event)); }
};

struct Fixture {
  clock::Monotonic::time_point now = clock::Monotonic::time_point{} + std::chrono::hours(1);
  FakeLoop loop;
  NodeJoiner joiner{loop, {"app@198.51.100.11"}, "ticksplit@198.51.100.11", "notice", [this] { return now; }};
  Fixture() { loop.joiner = &joiner; }

  const LocalNode& node() const { return joiner.nodes().at(0); }
  // The last dial's result comes in.
  void dial_answers(Result<int> result) {
    *loop.dials.back().result = std::move(result);
    joiner.on_dial_ready("app@198.51.100.11");
  }
  // The install replies of a node that has no watcher yet.
  void install(int fd) {
    REQUIRE(joiner.on_rex(fd, ei::tuple({atom("badrpc"), atom("undef")})));  // check_loaded: none
    REQUIRE(joiner.on_rex(fd, atom("false")));                               // purge
    REQUIRE(joiner.on_rex(fd, ei::tuple({atom("module"), atom("ticksplit_watcher")})));  // load
    REQUIRE(joiner.on_rex(fd, ei::tuple({atom("ok"), ei::Pid{"app@198.51.100.11", 1, 0, 1}, 2, 4, 4242})));  // start
  }
};

}  // namespace

TEST_CASE("node joiner: dial, install the watcher step by step, joined with the node's tick settings") {
  Fixture f;
  f.joiner.start();
  REQUIRE(f.loop.dials.size() == 1);
  CHECK(f.loop.dials[0].node == "app@198.51.100.11");
  CHECK(f.node().state == LocalNode::State::connecting);
  REQUIRE(f.joiner.dial_fds().size() == 1);

  f.joiner.on_dial_ready("app@198.51.100.11");  // readiness that was not the dial's: still at work
  CHECK(f.joiner.dial_fds().size() == 1);
  f.dial_answers(42);
  CHECK(f.joiner.dial_fds().empty());
  CHECK(f.node().state == LocalNode::State::installing);
  CHECK(f.joiner.node_on(42) != nullptr);  // its watcher may speak from the start step on
  CHECK(f.joiner.node_on(43) == nullptr);
  REQUIRE(f.joiner.next_deadline() == f.now + LocalNode::rpc_timeout);

  CHECK_FALSE(f.joiner.on_rex(43, atom("false")));  // not a local node's connection
  f.install(42);
  const std::vector<std::pair<int, std::string>> steps{
      {42, "get_module_info"}, {42, "purge"}, {42, "load_binary"}, {42, "start"}};
  CHECK(f.loop.rpcs == steps);
  CHECK(f.node().state == LocalNode::State::ready);
  CHECK(f.node().net_ticktime_ms == 2000);
  CHECK(f.node().os_pid == 4242);  // the node's word, kept for pauses
  CHECK(f.loop.joined_nodes == std::vector<std::string>{"app@198.51.100.11"});
  REQUIRE(f.loop.events.size() == 1);
  CHECK(f.loop.events[0].type == "node_joined");
  CHECK(*f.loop.events[0].field("net_ticktime_ms") == Term(2000));
  CHECK_FALSE(f.joiner.next_deadline().has_value());  // nothing to retry or wait for
  CHECK(f.joiner.on_rex(42, atom("late")));           // its own, ignored once ready: no step, no drop
  CHECK(f.loop.rpcs.size() == 4);
  CHECK(f.loop.dropped.empty());
  CHECK(f.node().state == LocalNode::State::ready);
}

TEST_CASE("node joiner: a failed dial backs off, doubling, and a join resets it") {
  Fixture f;
  f.joiner.start();
  f.dial_answers(Error{Domain::system, ECONNREFUSED, "connection refused"});
  CHECK(f.node().state == LocalNode::State::down);
  CHECK(f.node().failures == 1);
  REQUIRE(f.joiner.next_deadline() == f.now + LocalNode::first_backoff);

  f.now += LocalNode::first_backoff - std::chrono::milliseconds(1);
  f.joiner.expire(f.now);
  CHECK(f.loop.dials.size() == 1);
  f.now += std::chrono::milliseconds(1);
  f.joiner.expire(f.now);
  REQUIRE(f.loop.dials.size() == 2);
  f.dial_answers(Error{Domain::system, ECONNREFUSED, "connection refused"});
  CHECK(f.joiner.next_deadline() == f.now + 2 * LocalNode::first_backoff);

  f.now += 2 * LocalNode::first_backoff;
  f.joiner.expire(f.now);
  f.dial_answers(42);
  f.install(42);
  CHECK(f.node().failures == 0);
  CHECK(f.node().backoff == LocalNode::first_backoff);
}

TEST_CASE("node joiner: a dial gives up at its deadline, an install step at its own") {
  Fixture f;
  f.joiner.start();
  f.now += LocalNode::connect_timeout;
  f.joiner.expire(f.now);
  CHECK(*f.loop.dials[0].abandoned);  // whatever it still connects is closed by its thread
  CHECK(f.node().state == LocalNode::State::down);

  f.now += LocalNode::first_backoff * 2;
  f.joiner.expire(f.now);
  f.dial_answers(42);
  REQUIRE(f.loop.rpcs.size() == 1);  // check_loaded, never answered
  f.now += LocalNode::rpc_timeout;
  f.joiner.expire(f.now);
  REQUIRE(f.loop.dropped.size() == 1);
  CHECK(f.loop.dropped[0] == std::pair<int, std::string>{42, "watcher install timed out"});
  CHECK(f.node().state == LocalNode::State::down);
  CHECK(f.loop.events.empty());  // it never joined: nothing was lost
}

TEST_CASE("node joiner: a bad install reply drops the connection") {
  Fixture f;
  f.joiner.start();
  f.dial_answers(42);
  REQUIRE(f.joiner.on_rex(42, ei::tuple({atom("badrpc"), atom("undef")})));
  REQUIRE(f.joiner.on_rex(42, ei::tuple({atom("badrpc"), atom("nodedown")})));  // purge failed
  REQUIRE(f.loop.dropped.size() == 1);
  CHECK(f.loop.dropped[0].second == "watcher install failed");
  CHECK(f.node().state == LocalNode::State::down);
}

TEST_CASE("node joiner: a node that connects first is joined over its connection, its dial abandoned") {
  Fixture f;
  f.joiner.start();
  f.joiner.opened(50, "someone@198.51.100.12");  // not a local node
  CHECK(f.loop.rpcs.empty());
  f.joiner.opened(50, "app@198.51.100.11");
  CHECK(*f.loop.dials[0].abandoned);
  CHECK(f.joiner.dial_fds().empty());
  REQUIRE(f.loop.rpcs.size() == 1);
  CHECK(f.loop.rpcs[0].first == 50);
  f.joiner.opened(51, "app@198.51.100.11");  // a second connection while installing: not restarted
  CHECK(f.loop.rpcs.size() == 1);
}

TEST_CASE("node joiner: a joined node lost reports node_lost and rejoins after the backoff") {
  Fixture f;
  f.joiner.start();
  f.dial_answers(42);
  f.install(42);
  CHECK_FALSE(f.joiner.lost(43, "closed"));  // not a local node's
  CHECK(f.joiner.lost(42, "connection closed"));
  CHECK(f.node().state == LocalNode::State::down);
  CHECK(f.joiner.node_on(42) == nullptr);  // its old connection no longer speaks for it
  REQUIRE(f.loop.events.size() == 2);
  CHECK(f.loop.events[1].type == "node_lost");
  CHECK(*f.loop.events[1].field("reason") == ei::binary("connection closed"));
  f.now += LocalNode::first_backoff;
  f.joiner.expire(f.now);
  CHECK(f.loop.dials.size() == 2);
}
