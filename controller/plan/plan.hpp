// From a schedule and a cluster (its app nodes, which agent serves each, T) to the faults to
// apply: Jepsen's shapes as drop sets ("grudges": node -> nodes it drops traffic from),
// durations in ms with their window class. Pure and seeded: same seed and cluster, same plan.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "common/tick_window.hpp"
#include "controller/plan/drop_sets.hpp"
#include "controller/plan/topology.hpp"
#include "controller/schedule/schedule.hpp"

namespace ticksplit::ctl {

struct ClusterInfo {
  std::vector<std::string> nodes;               // app nodes, in a stable order
  std::map<std::string, std::string> agent_of;  // app node -> its agent
  std::int64_t net_ticktime_ms = 0;
  std::int64_t tick_intensity = 4;
  [[nodiscard]] TickWindow window() const { return detection_window(net_ticktime_ms, tick_intensity); }
};

// Every agent of a fault gets one start_at_us this far ahead of the decision, so that all
// have their request before the window opens; the library's default is the same
// (tests/data/golden/arming.txt).
inline constexpr std::int64_t start_lead_ms = 100;

// One partition request per agent: what the nodes it serves drop. An agent drops by address,
// for its whole host, so the nodes of one agent must drop the same peers (else same_agent),
// and none may drop a node of its own agent's host (else own_host). The same rule is
// ticksplit_groups:by_agent/2; tests/data/golden/requests.txt pins both.
struct AgentDrop {
  std::string agent;
  std::vector<std::string> nodes;  // sorted
  std::set<std::string> peers;
  bool operator==(const AgentDrop&) const = default;
};
// Why drop sets cannot become requests, naming the agent and two nodes: same_agent, the first
// node of the agent (in node order) and the first that drops other peers; own_host, the first
// node of the first such agent (in name order) and the first peer (in order) of its own host.
struct DropConflict {
  enum class Kind { same_agent, own_host };
  Kind kind;
  std::string agent;
  std::string node;
  std::string other;  // same_agent: the second node; own_host: the peer
  [[nodiscard]] std::string message() const;
  bool operator==(const DropConflict&) const = default;
};
using AgentOf = std::function<std::string(const std::string& node)>;
// Agents in name order, their nodes and peers sorted.
std::variant<std::vector<AgentDrop>, DropConflict> per_agent(const Grudge& g, const AgentOf& agent_of);

// A duration drawn from a call-timeout class, and the call timeout it was sized by.
struct PlannedCallClass {
  CallClass cls;
  std::int64_t call_timeout_ms = 0;
  bool operator==(const PlannedCallClass&) const = default;
};

struct PlannedFault {
  int number = 0;     // 1-based, in run order
  std::string shape;  // isolate, halves, majorities_ring, bridge, groups, one_way, pause, kill_node,
                      // kill_process, stress
  Groups groups;      // empty for non-transitive shapes
  Grudge grudge;
  std::vector<AgentDrop> drops;  // the requests: one per agent (none for a pause)
  std::optional<std::string> paused;  // a pause: the node whose process is stopped (its agent's request)
  // kill_node: the node whose process is SIGKILLed at the start (its agent's request), and when
  // the agent starts it again (duration_ms after the kill; absent: the host's supervisor does).
  std::optional<std::string> killed;
  std::optional<std::int64_t> restart_after_ms;
  std::optional<std::string> killed_on;  // a kill_process: the node (its agent's request); duration_ms is the restart window
  proto::ProcessTarget kill_target;      // a kill_process: by name, or a random child of a supervisor
  Topology topology;             // what the drops do to distribution's links (topology.hpp)
  std::vector<std::string> warnings;  // where that is not what the shape promises
  std::int64_t duration_ms = 0;
  WindowClass window_class = WindowClass::in_window;
  std::optional<PlannedCallClass> call_class;  // when `for` named a call-timeout class
  std::string requested;     // the `for` as written
  proto::Loss loss;          // of every drop (total unless the step says `loss`)
  int line = 0;
  std::optional<std::string> stressed;  // a stress: the node whose schedulers are starved (its agent's request)
  std::int64_t hogs = 0;                // a stress: max-priority hogs per online scheduler
};
struct PlannedWait {
  std::int64_t ms = 0;
};
using PlannedStep = std::variant<PlannedFault, PlannedWait>;

// Throws ScheduleError (e.g. a node the cluster does not have, two nodes of one agent on
// different sides).
std::vector<PlannedStep> make_plan(const Schedule& s, const ClusterInfo& c, std::uint64_t seed);

// Shapes, over nodes already in the order to use (make_plan shuffles them with the seed).
Grudge complete_grudge(const Groups& groups);          // each node drops every node outside its group
Groups halves(const std::vector<std::string>& nodes);  // the first floor(n/2), the rest
Grudge majorities_ring(const std::vector<std::string>& nodes);
Grudge bridge(const std::vector<std::string>& nodes);  // two halves; the first of the second sees both

// A small portable generator, so the same seed gives the same plan everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  std::int64_t between(std::int64_t lo, std::int64_t hi);  // inclusive
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<std::size_t>(next() % i)]);
  }

 private:
  std::uint64_t state_;
};

}  // namespace ticksplit::ctl
