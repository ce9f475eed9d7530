// Serving requests against a fake of the loop: replies go to a list, engine work waits in a
// queue until the test runs it on a real fault::Engine over the recording fake kernel, the
// clock is the test's, and host names are resolved by a fake resolver that answers only when
// the test lets it. What is checked: who owns a fault (the connection, never the message), what
// a requester's faults spare, that calls wait in order for a lookup and what happens at its
// deadline, subscriptions, and warnings instead of answers for malformed or forged calls.
#include <doctest/doctest.h>

#include <poll.h>

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/request_server.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/proto/reply.hpp"
#include "fake_kernel.hpp"

using namespace ticksplit;
using agent::Caller;
using agent::RequestServer;
using ei::atom;
using ei::Term;

namespace {

struct FakeLoop final : RequestServer::Ports {
  test::FakeKernel kernel;
  agent::fault::Engine engine{kernel, agent::fault::Policy{}};
  std::vector<std::pair<Caller, Term>> answers;
  std::vector<std::string> warnings;  // kinds
  std::deque<std::pair<agent::EngineThread::Work, agent::EngineThread::Done>> posted;
  std::vector<std::string> fault_events;  // "fault_healed f1", as the engine reported them
  std::function<void(const Caller&)> on_answer;  // e.g. the loop dropping the connection

  void answer(const Caller& caller, Term reply) override {
    answers.emplace_back(caller, std::move(reply));
    if (on_answer) on_answer(caller);
  }
  void post(agent::EngineThread::Work work, agent::EngineThread::Done done) override {
    posted.emplace_back(std::move(work), std::move(done));
  }
  [[nodiscard]] proto::AgentStatus status() const override {
    proto::AgentStatus s;
    s.agent = "ticksplit@198.51.100.10";
    s.backend = kernel.name();
    return s;
  }
  void warn(const char* kind, const std::string&) override { warnings.emplace_back(kind); }
  // No local node: every pause is refused here (the engine's pauses are fault_pauses_test's),
  // as not_local_node unless a test says otherwise.
  std::optional<proto::Refusal> process_refusal;
  [[nodiscard]] std::variant<agent::fault::NodeProcess, proto::Refusal> local_process(
      const std::string& node) const override {
    if (process_refusal) return *process_refusal;
    return proto::Refusal{proto::Refusal::Kind::not_local_node, node, {}, 0, 0};
  }
  std::vector<proto::KillProcessRequest> kills;
  ei::Term kill_process(const proto::KillProcessRequest& r, const std::string&) override {
    kills.push_back(r);
    return ei::ok_tuple(ei::binary("k1"));
  }
  // Stresses are the loop's: the fake keeps what it was asked.
  std::vector<std::pair<proto::StressRequest, std::string>> stresses;
  std::vector<std::pair<std::string, proto::HealReason>> stops;
  std::vector<std::optional<std::string>> owners_stopped;
  ei::Term stress(const proto::StressRequest& r, const std::string& owner) override {
    stresses.emplace_back(r, owner);
    return ei::ok_tuple(ei::binary("s1"));
  }
  bool stop_stress(const std::string& id, proto::HealReason why) override {
    stops.emplace_back(id, why);
    return id == "s1";
  }
  std::size_t stop_stresses(const std::optional<std::string>& owner, proto::HealReason) override {
    owners_stopped.push_back(owner);
    return stresses.size();  // each stress asked counts as one under way
  }

  // What the engine's thread would do, in the order posted.
  void run_engine() {
    while (!posted.empty()) {
      auto [work, done] = std::move(posted.front());
      posted.pop_front();
      agent::fault::Output out;
      auto reply = work(engine, out);
      for (const auto& e : out.events) {
        const auto event = proto::to_event(e);
        fault_events.push_back(event.type + " " + ei::to_string(*event.field("id")));
      }
      if (done) done(std::move(reply));
    }
  }
  // The replies so far, taken.
  std::vector<Term> replies() {
    std::vector<Term> r;
    for (auto& [caller, reply] : answers) r.push_back(std::move(reply));
    answers.clear();
    return r;
  }
};

// Host names resolve only once the test releases them (on the Lookup's thread).
struct GatedResolver {
  std::shared_ptr<std::promise<void>> gate = std::make_shared<std::promise<void>>();
  std::shared_future<void> opened = gate->get_future().share();
  std::map<std::string, std::string> hosts;
  bool released = false;
  net::Resolver resolver() const {
    return [opened = opened, hosts = hosts](const std::string& host) -> Result<std::vector<net::Cidr>> {
      opened.wait();
      const auto it = hosts.find(host);
      if (it == hosts.end()) return Error{Domain::system, 0, "no such host " + host};
      return std::vector<net::Cidr>{*net::parse_cidr(it->second)};
    };
  }
  void release() {
    if (!std::exchange(released, true)) gate->set_value();
  }
};

struct Clock {
  clock::Monotonic::time_point now = clock::Monotonic::time_point{} + std::chrono::hours(1);
};

// The address a requester's connection comes from (getpeername): not its host's, so that what
// is spared is seen to include it.
const net::Cidr kRequesterAddress = *net::parse_cidr("198.51.100.21");

RequestServer::Seams seams(const GatedResolver& names, Clock& clock) {
  RequestServer::Seams s;
  s.addresses.local = [] { return Result<std::vector<net::Cidr>>(std::vector<net::Cidr>{}); };
  s.addresses.resolve = [](const std::string& host) -> Result<std::vector<net::Cidr>> {
    return std::vector<net::Cidr>{*net::parse_cidr(host)};  // literals only
  };
  s.resolve = names.resolver();
  s.now = [&clock] { return clock.now; };
  return s;
}

// A server on the fake loop. Host names in `hosts` resolve once the test releases them, or at
// once when `released`; whatever is still held is released at the end, so no lookup thread is
// left waiting.
struct Served {
  FakeLoop loop;
  agent::EventLog log{100};
  agent::Subscribers subs;
  GatedResolver names;
  Clock clock;
  RequestServer server;
  explicit Served(std::map<std::string, std::string> hosts = {}, bool released = true,
                  std::vector<std::string> allow = {})
      : names(gated(std::move(hosts))), server(loop, log, subs, seams(names, clock), std::move(allow)) {
    if (released) names.release();
  }
  ~Served() { names.release(); }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

 private:
  static GatedResolver gated(std::map<std::string, std::string> hosts) {
    GatedResolver g;
    g.hosts = std::move(hosts);
    return g;
  }
};

ei::Pid pid(const std::string& node, std::uint32_t n = 1) { return ei::Pid{node, n, 0, 1}; }

Term call(const ei::Pid& from, proto::Request request, std::int64_t tag = 1) {
  return proto::gen_call_term({from, Term(tag), proto::to_term(request)});
}

proto::PartitionRequest partition_of(std::vector<proto::Peer> peers, std::string id) {
  proto::PartitionRequest r;
  r.peers = std::move(peers);
  r.duration_ms = 10'000;
  r.id = std::move(id);
  return r;
}

// Waits (poll, no sleep) until the lookup of connection `fd` is done, and hands it over.
void finish_lookup(RequestServer& server, int fd) {
  for (const auto& [event_fd, conn] : server.lookup_fds())
    if (conn == fd) {
      pollfd p{event_fd, POLLIN, 0};
      REQUIRE(::poll(&p, 1, 5000) == 1);
      server.on_lookup_ready(fd);
      return;
    }
  FAIL("no lookup for connection " << fd);
}

// {error, Reason} or {error, {Reason, ...}}
bool is_error(const Term& t, const char* reason) {
  const auto* e = t.tuple_of(2);
  if (e == nullptr || !(*e)[0].is_atom("error")) return false;
  if ((*e)[1].is_atom(reason)) return true;
  const auto* detail = (*e)[1].as<ei::Tuple>();
  return detail != nullptr && !detail->items.empty() && detail->items[0].is_atom(reason);
}

}  // namespace

TEST_CASE("request server: is_auth now, status once the engine has answered, unknown requests refused") {
  Served t;
  const std::string node = "app@198.51.100.11";
  t.server.opened(5, node, kRequesterAddress);

  const auto is_auth = proto::gen_call_term({pid(node), Term(7), ei::tuple({atom("is_auth"), atom(node)})});
  t.server.on_call(5, "net_kernel", is_auth);
  REQUIRE(t.loop.answers.size() == 1);
  CHECK(t.loop.answers[0].first.node == node);
  CHECK(t.loop.answers[0].first.tag == Term(7));
  CHECK(t.loop.replies()[0].is_atom("yes"));

  t.server.on_call(5, "ticksplit", call(pid(node), proto::StatusRequest{}));
  CHECK(t.loop.answers.empty());  // the faults come from the engine's thread
  t.loop.run_engine();
  auto replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  auto status = proto::parse_status_reply(replies[0]);
  REQUIRE(status);
  CHECK(status->agent == "ticksplit@198.51.100.10");
  CHECK(status->faults.empty());

  t.server.on_call(5, "ticksplit", proto::gen_call_term({pid(node), Term(8), atom("launch_missiles")}));
  replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(is_error(replies[0], "unknown_request"));
  CHECK(t.loop.warnings.empty());
}

TEST_CASE("request server: a fault belongs to its connection, spares the requester, heals when it closes") {
  Served t;
  const std::string node = "app@198.51.100.11";
  t.server.opened(5, node, kRequesterAddress);

  t.server.on_call(5, "ticksplit", call(pid(node), partition_of({{"198.51.100.12", false}}, "f1")));
  CHECK(t.loop.answers.empty());
  CHECK(t.loop.engine.size() == 0);  // not applied on the loop
  t.loop.run_engine();
  auto replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0] == ei::ok_tuple(ei::binary("f1")));
  REQUIRE(t.loop.engine.size() == 1);
  agent::fault::Output out;
  CHECK(t.loop.engine.status(out)[0].owner == node);

  // The requester's own addresses (its host's, and the one its connection comes from) are
  // never cut.
  t.server.on_call(5, "ticksplit", call(pid(node), partition_of({{"198.51.100.11", false}}, "f2")));
  t.server.on_call(5, "ticksplit", call(pid(node), partition_of({{"198.51.100.21", false}}, "f3")));
  t.loop.run_engine();
  replies = t.loop.replies();
  REQUIRE(replies.size() == 2);
  CHECK(is_error(replies[0], "requester_address"));
  CHECK(is_error(replies[1], "requester_address"));

  // Another node's connection cannot heal by closing; this one's closing heals its fault.
  t.server.opened(6, "other@198.51.100.13", *net::parse_cidr("198.51.100.13"));
  t.loop.fault_events.clear();
  t.server.closed(6);
  t.loop.run_engine();
  CHECK(t.loop.fault_events.empty());
  t.server.closed(5);
  t.loop.run_engine();
  CHECK(t.loop.fault_events == std::vector<std::string>{"fault_healed <<\"f1\">>"});
  // Closed: nothing more is answered on that number until it opens again.
  t.server.on_call(5, "ticksplit", call(pid(node), proto::StatusRequest{}));
  t.loop.run_engine();
  CHECK(t.loop.answers.empty());
}

TEST_CASE("request server: forged and malformed calls get a warning and no answer") {
  Served t;
  t.server.opened(5, "app@198.51.100.11", kRequesterAddress);

  // A From on another node would make that node own the fault.
  t.server.on_call(5, "ticksplit", call(pid("victim@198.51.100.12"), partition_of({{"198.51.100.13", false}}, "f")));
  t.server.on_call(5, "ticksplit", ei::tuple({atom("$gen_call"), atom("no_from"), atom("status")}));
  t.loop.run_engine();
  CHECK(t.loop.answers.empty());
  CHECK(t.loop.engine.size() == 0);
  CHECK(t.loop.warnings == std::vector<std::string>{"forged", "bad_call"});
}

TEST_CASE("request server: subscriptions are the caller's own pids and end with its connection") {
  Served t;
  const std::string node = "app@198.51.100.11";
  t.server.opened(5, node, kRequesterAddress);

  t.server.on_call(5, "ticksplit", call(pid(node), proto::SubscribeRequest{pid("other@198.51.100.12", 9)}));
  t.server.on_call(5, "ticksplit", call(pid(node), proto::SubscribeRequest{pid(node, 9)}));
  auto replies = t.loop.replies();
  REQUIRE(replies.size() == 2);
  CHECK(is_error(replies[0], "foreign_pid"));
  CHECK(replies[1].is_atom("ok"));
  CHECK(t.subs.all() == std::vector<ei::Pid>{pid(node, 9)});

  t.log.append({0, "nodeup", 1, {}});
  t.server.on_call(5, "ticksplit", call(pid(node), proto::EventsRequest{0}));
  replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].tuple_of(3) != nullptr);  // {ok, Events, NextSeq}

  t.server.closed(5);
  CHECK(t.subs.all().empty());
}

TEST_CASE("request server: calls wait in order while the requester's host is looked up") {
  Served t({{"hostb", "198.51.100.12"}}, false);
  const std::string node = "app@hostb";
  t.server.opened(7, node, *net::parse_cidr("198.51.100.12"));
  REQUIRE(t.server.next_deadline() == t.clock.now + RequestServer::lookup_deadline);

  t.server.on_call(7, "ticksplit", call(pid(node), proto::StatusRequest{}, 1));
  t.server.on_call(7, "ticksplit", call(pid(node), partition_of({{"198.51.100.13", false}}, "f1"), 2));
  t.server.on_call(7, "ticksplit", call(pid(node), proto::HealAllRequest{}, 3));
  CHECK(t.loop.posted.empty());  // nothing served before the lookup: a heal_all would come before its partition
  CHECK(t.loop.answers.empty());

  t.names.release();
  finish_lookup(t.server, 7);
  CHECK_FALSE(t.server.next_deadline().has_value());
  t.loop.run_engine();
  REQUIRE(t.loop.answers.size() == 3);
  CHECK(t.loop.answers[0].first.tag == Term(1));
  CHECK(t.loop.answers[1].first.tag == Term(2));
  CHECK(t.loop.answers[2].first.tag == Term(3));
  CHECK(t.loop.answers[1].second == ei::ok_tuple(ei::binary("f1")));
  CHECK(t.loop.answers[2].second == ei::ok_tuple(Term(std::int64_t{1})));  // heal_all healed it
}

TEST_CASE("request server: past the lookup deadline calls are answered and partitions refused; at most 64 wait") {
  Served t({{"slow", "198.51.100.12"}}, false);  // never released before the deadline
  const std::string node = "app@slow";
  t.server.opened(7, node, *net::parse_cidr("198.51.100.12"));

  for (std::size_t i = 0; i < RequestServer::max_deferred + 1; ++i)
    t.server.on_call(7, "ticksplit", call(pid(node), proto::StatusRequest{}, static_cast<std::int64_t>(i)));
  CHECK(t.loop.warnings == std::vector<std::string>{"deferred"});

  t.clock.now += RequestServer::lookup_deadline - std::chrono::milliseconds(1);
  t.server.expire(t.clock.now);
  CHECK(t.loop.posted.empty());
  t.clock.now += std::chrono::milliseconds(1);
  t.server.expire(t.clock.now);
  CHECK(t.loop.warnings.back() == "lookup");
  t.loop.run_engine();
  CHECK(t.loop.answers.size() == RequestServer::max_deferred);

  t.loop.answers.clear();
  t.server.on_call(7, "ticksplit", call(pid(node), partition_of({{"198.51.100.13", false}}, "f")));
  auto replies = t.loop.replies();
  REQUIRE(replies.size() == 1);  // refused at once: its own address is unknown
  CHECK(is_error(replies[0], "unresolvable_requester"));

  // The lookup went on: once it answers, partitions are served.
  t.names.release();
  finish_lookup(t.server, 7);
  t.server.on_call(7, "ticksplit", call(pid(node), partition_of({{"198.51.100.13", false}}, "f")));
  t.loop.run_engine();
  replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0] == ei::ok_tuple(ei::binary("f")));
}

TEST_CASE("request server: a peer named by a slow host is refused at the deadline, later calls still in order") {
  Served t({{"peerhost", "198.51.100.14"}}, false);
  const std::string node = "app@198.51.100.11";
  t.server.opened(5, node, kRequesterAddress);

  t.server.on_call(5, "ticksplit", call(pid(node), partition_of({{"peer@peerhost", true}}, "f"), 1));
  t.server.on_call(5, "ticksplit", call(pid(node), proto::HealRequest{"f"}, 2));
  CHECK(t.loop.posted.empty());
  t.clock.now += RequestServer::lookup_deadline;
  t.server.expire(t.clock.now);
  t.loop.run_engine();
  REQUIRE(t.loop.answers.size() == 2);
  CHECK(t.loop.answers[0].first.tag == Term(1));
  CHECK(is_error(t.loop.answers[0].second, "unresolvable_peer"));
  CHECK(is_error(t.loop.answers[1].second, "not_found"));
}

TEST_CASE("request server: a reply that drops its connection stops the replay of the calls behind it") {
  Served t({{"hostb", "198.51.100.12"}}, false);
  const std::string node = "app@hostb";
  t.server.opened(7, node, *net::parse_cidr("198.51.100.12"));
  for (std::int64_t tag = 1; tag <= 3; ++tag)
    t.server.on_call(7, "net_kernel", proto::gen_call_term({pid(node), Term(tag), ei::tuple({atom("is_auth"), atom(node)})}));
  // The first reply cannot be sent: the loop drops the connection, as Agent::answer does.
  t.loop.on_answer = [&](const Caller&) {
    t.loop.on_answer = nullptr;
    t.server.closed(7);
  };
  t.names.release();
  finish_lookup(t.server, 7);
  CHECK(t.loop.answers.size() == 1);  // the other two went with the connection
  CHECK(t.server.lookup_fds().empty());
  t.loop.run_engine();  // the heal of its faults, posted by closed()
  CHECK(t.loop.posted.empty());
}

TEST_CASE("request server: a kill_process goes to the loop's port with its owner, answered at once") {
  Served t;
  const std::string node = "ctl@198.51.100.1";
  t.server.opened(5, node, kRequesterAddress);
  proto::KillProcessRequest k;
  k.node = "app@198.51.100.11";
  k.target = {proto::ProcessTarget::Kind::child_of, "ts_sup"};
  t.server.on_call(5, "ticksplit", call(pid(node), k));
  REQUIRE(t.loop.kills.size() == 1);
  CHECK(t.loop.kills[0] == k);
  const auto replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0] == ei::ok_tuple(ei::binary("k1")));
  CHECK(t.loop.posted.empty());  // nothing for the engine: the kill is the node's watcher's
}

TEST_CASE("request server: a stress is the loop's: asked with its owner, healed by id, by heal, with its owner") {
  Served t;
  const std::string node = "ctl@198.51.100.1";
  t.server.opened(5, node, kRequesterAddress);
  proto::StressRequest r;
  r.node = "app@198.51.100.11";
  r.duration_ms = 2000;
  r.hogs = 3;
  t.server.on_call(5, "ticksplit", call(pid(node), r));
  REQUIRE(t.loop.stresses.size() == 1);
  CHECK(t.loop.stresses[0].first == r);
  CHECK(t.loop.stresses[0].second == node);
  CHECK(t.loop.replies()[0] == ei::ok_tuple(ei::binary("s1")));  // at once, not through the engine

  t.server.on_call(5, "ticksplit", call(pid(node), proto::HealRequest{"s1"}));
  REQUIRE(t.loop.stops.size() == 1);
  CHECK(t.loop.stops[0] == std::pair{std::string("s1"), proto::HealReason::request});
  t.loop.run_engine();  // the engine has no fault of that id: ok all the same, for the stress
  CHECK(t.loop.replies()[0].is_atom("ok"));

  t.server.on_call(5, "ticksplit", call(pid(node), proto::HealRequest{"f9"}));  // not a stress: the engine's
  t.loop.run_engine();
  CHECK(is_error(t.loop.replies()[0], "not_found"));

  t.server.on_call(5, "ticksplit", call(pid(node), proto::HealAllRequest{}));
  t.loop.run_engine();
  CHECK(t.loop.replies()[0] == ei::ok_tuple(std::int64_t{1}));  // the fake's one stress, no partition
  REQUIRE(t.loop.owners_stopped.size() == 1);
  CHECK_FALSE(t.loop.owners_stopped[0].has_value());

  t.server.closed(5);
  REQUIRE(t.loop.owners_stopped.size() == 2);
  CHECK(t.loop.owners_stopped[1] == std::optional<std::string>(node));
}

TEST_CASE("request server: a node whose process failed the checks: a pause says cannot_pause, a kill cannot_kill") {
  Served t;
  const std::string node = "ctl@198.51.100.1";
  t.server.opened(5, node, kRequesterAddress);
  t.loop.process_refusal = proto::Refusal{proto::Refusal::Kind::cannot_pause, "app@198.51.100.11", "not a BEAM", 0, 0};
  t.server.on_call(5, "ticksplit", call(pid(node), proto::PauseRequest{"app@198.51.100.11", 1000, std::nullopt, std::nullopt}));
  CHECK(ei::to_string(t.loop.replies()[0]) == "{error,{cannot_pause,'app@198.51.100.11',<<\"not a BEAM\">>}}");
  t.server.on_call(5, "ticksplit",
                   call(pid(node), proto::KillNodeRequest{"app@198.51.100.11", std::nullopt, std::nullopt, std::nullopt}));
  CHECK(ei::to_string(t.loop.replies()[0]) == "{error,{cannot_kill,'app@198.51.100.11',<<\"not a BEAM\">>}}");
  CHECK(t.loop.posted.empty());  // refused before the engine
}

TEST_CASE("request server: --allow serves matching names, answers not_allowed to every request of the rest") {
  // The host is a name, not a literal: an allowed node waits for its lookup; a refused one
  // starts none (nothing of it is needed).
  Served t({{"good.example", "198.51.100.11"}}, true, {"app@*.example", "ctl_*@198.51.100.1"});
  const std::string good = "app@good.example", bad = "intruder@good.example";
  t.server.opened(5, good, kRequesterAddress);
  t.server.opened(6, bad, kRequesterAddress);
  CHECK(t.server.lookup_fds().size() == 1);
  finish_lookup(t.server, 5);

  t.server.on_call(5, "ticksplit", call(pid(good), proto::StatusRequest{}));
  t.loop.run_engine();
  auto replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(proto::parse_status_reply(replies[0]));

  const std::vector<proto::Request> requests = {proto::StatusRequest{}, proto::SubscribeRequest{pid(bad)},
                                                proto::EventsRequest{0}, partition_of({{"198.51.100.12", false}}, "f1"),
                                                proto::HealRequest{"f1"}, proto::HealAllRequest{}};
  for (const auto& r : requests) t.server.on_call(6, "ticksplit", call(pid(bad), r));
  CHECK(t.loop.posted.empty());  // nothing reached the engine
  replies = t.loop.replies();
  REQUIRE(replies.size() == requests.size());
  for (const auto& r : replies) CHECK(r == ei::error_tuple(atom("not_allowed")));
  CHECK(proto::refused_text(replies[0]).value_or("").find("--allow") != std::string::npos);
  CHECK(t.subs.remove_node(bad) == 0);
  CHECK(t.loop.warnings == std::vector<std::string>(requests.size(), "not_allowed"));  // the loop throttles them

  // net_adm:ping still answers: the connection is up, nothing is commanded.
  t.server.on_call(6, "net_kernel", proto::gen_call_term({pid(bad), Term(9), ei::tuple({atom("is_auth"), atom(bad)})}));
  CHECK(t.loop.replies()[0].is_atom("yes"));

  // The agent's own connection to its --node node matches no pattern, and is served: the agent
  // dialed it.
  const std::string local = "app@198.51.100.11";
  t.server.opened(7, local, kRequesterAddress, true);
  t.server.on_call(7, "ticksplit", call(pid(local), proto::StatusRequest{}));
  t.loop.run_engine();
  replies = t.loop.replies();
  REQUIRE(replies.size() == 1);
  CHECK(proto::parse_status_reply(replies[0]));
  // The same name on a connection it accepted is only a claim: refused.
  t.server.opened(8, local, kRequesterAddress);
  t.server.on_call(8, "ticksplit", call(pid(local), proto::StatusRequest{}));
  CHECK(t.loop.replies()[0] == ei::error_tuple(atom("not_allowed")));
}
