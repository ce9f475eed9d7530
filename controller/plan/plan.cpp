#include "controller/plan/plan.hpp"

#include "common/proto/request.hpp"

#include <algorithm>
#include <cmath>

namespace ticksplit::ctl {

std::uint64_t Rng::next() {  // splitmix64
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::int64_t Rng::between(std::int64_t lo, std::int64_t hi) {
  if (hi <= lo) return lo;  // an empty or one-value range (a degenerate window)
  return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
}

Grudge complete_grudge(const Groups& groups) {
  Grudge g;
  for (const auto& group : groups)
    for (const auto& node : group)
      for (const auto& other : groups)
        if (&other != &group) g[node].insert(other.begin(), other.end());
  return g;
}

Groups halves(const std::vector<std::string>& nodes) {
  const auto half = static_cast<std::ptrdiff_t>(nodes.size() / 2);
  return {{nodes.begin(), nodes.begin() + half}, {nodes.begin() + half, nodes.end()}};
}

// Nodes on a ring; each sees the majority of consecutive nodes around it and drops the rest.
// Windows of the ring are all different, so no two nodes see the same majority.
Grudge majorities_ring(const std::vector<std::string>& nodes) {
  const std::size_t n = nodes.size();
  const std::size_t m = n / 2 + 1;
  Grudge g;
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::string> sees;
    for (std::size_t k = 0; k < m; ++k) sees.insert(nodes[(i + n + k - (m - 1) / 2) % n]);
    for (const auto& other : nodes)
      if (!sees.count(other)) g[nodes[i]].insert(other);
  }
  return g;
}

Grudge bridge(const std::vector<std::string>& nodes) {
  auto h = halves(nodes);
  const std::string b = h[1].front();
  Grudge g = complete_grudge(h);
  g.erase(b);
  for (auto& [node, drops] : g) drops.erase(b);
  return g;
}

std::string DropConflict::message() const {
  if (kind == Kind::same_agent)
    return "same_agent: " + node + " and " + other + " are both served by " + agent +
           " (one host) but would drop different nodes";
  return "own_host: " + node + " would drop " + other + ", a node of its own host (agent " + agent + ")";
}

std::variant<std::vector<AgentDrop>, DropConflict> per_agent(const Grudge& g, const AgentOf& agent_of) {
  std::map<std::string, AgentDrop> by_agent;
  for (const auto& [node, peers] : g) {  // a Grudge is ordered: nodes come sorted
    if (peers.empty()) continue;
    const auto agent = agent_of(node);
    auto [it, fresh] = by_agent.try_emplace(agent, AgentDrop{agent, {}, peers});
    if (!fresh && it->second.peers != peers)
      return DropConflict{DropConflict::Kind::same_agent, agent, it->second.nodes.front(), node};
    it->second.nodes.push_back(node);
  }
  // Then (so that two nodes of one host on different sides are named as that): a request
  // that would cut the agent's own host.
  std::vector<AgentDrop> out;
  for (auto& [agent, d] : by_agent) {
    for (const auto& p : d.peers)
      if (agent_of(p) == agent) return DropConflict{DropConflict::Kind::own_host, agent, d.nodes.front(), p};
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

class Planner {
 public:
  Planner(const Schedule& s, const ClusterInfo& c, std::uint64_t seed) : s_(s), c_(c), rng_(seed) {}

  std::vector<PlannedStep> run() {
    walk(s_.steps);
    return std::move(out_);
  }

 private:
  void known(const std::string& node, const Where& w) const {
    if (std::find(c_.nodes.begin(), c_.nodes.end(), node) == c_.nodes.end()) {
      std::string list;
      for (const auto& n : c_.nodes) list += (list.empty() ? "" : ", ") + n;
      throw ScheduleError(w, "unknown node " + node + " (the agents serve: " + list + ")");
    }
  }

  std::int64_t ms(const Step& st) { return ms(st.duration, st.where, st.call_timeout_ms); }
  std::int64_t ms(const DurationSpec& d, const Where& where, std::int64_t call_timeout_ms) {
    if (const auto* c = std::get_if<WindowClass>(&d.value)) {
      const auto r = class_range(*c, c_.window());
      return rng_.between(r.min_ms, r.max_ms);
    }
    if (const auto* c = std::get_if<CallClass>(&d.value)) {
      const auto r = call_class_range(*c, call_timeout_ms, c_.window());
      if (const auto* e = std::get_if<CallClassError>(&r)) throw ScheduleError(where, e->message(*c, call_timeout_ms));
      const auto& range = std::get<ClassRange>(r);
      return rng_.between(range.min_ms, range.max_ms);
    }
    auto ms = std::get<Duration>(d.value).ms(c_.net_ticktime_ms);
    if (!ms) throw ScheduleError(where, ms.error().message);
    return *ms;
  }

  static std::optional<PlannedCallClass> call_class_of(const Step& st) {
    if (const auto* c = std::get_if<CallClass>(&st.duration.value)) return PlannedCallClass{*c, st.call_timeout_ms};
    return std::nullopt;
  }

  std::vector<std::string> shuffled() {
    auto v = c_.nodes;
    rng_.shuffle(v);
    return v;
  }

  // A pause drops nothing: the node's process stops. To distribution it is the node cut off
  // from every other (its topology is an isolation's), and its agent is asked.
  void pause(const Step& st, const std::string& node) {
    PlannedFault f;
    f.number = ++faults_;
    f.shape = "pause";
    f.paused = node;
    f.groups = Groups{{node}, {}};
    for (const auto& n : c_.nodes)
      if (n != node) f.groups[1].push_back(n);
    f.duration_ms = ms(st);
    f.window_class = classify(f.duration_ms, c_.window());
    f.call_class = call_class_of(st);
    f.topology = effective_topology(c_.nodes, complete_grudge(f.groups));
    f.requested = st.duration.text;
    f.line = st.where.line;
    out_.emplace_back(std::move(f));
  }

  // A kill drops nothing either: the node's process dies at the start and its connections
  // close. The fault lasts until the restart (none: it is over at the kill), and its topology
  // is an isolation's.
  void kill_node(const Step& st, const std::string& node) {
    PlannedFault f;
    f.number = ++faults_;
    f.shape = "kill_node";
    f.killed = node;
    f.groups = Groups{{node}, {}};
    for (const auto& n : c_.nodes)
      if (n != node) f.groups[1].push_back(n);
    if (st.restart_after) {
      f.restart_after_ms = ms(*st.restart_after, st.where, st.call_timeout_ms);
      f.duration_ms = *f.restart_after_ms;
      f.requested = st.restart_after->text;
    } else {
      f.requested = "supervisor";
    }
    f.window_class = classify(f.duration_ms, c_.window());
    f.topology = effective_topology(c_.nodes, complete_grudge(f.groups));
    f.line = st.where.line;
    out_.emplace_back(std::move(f));
  }

  // A kill_process cuts nothing: one process on one node is killed at the window's start, and
  // the window is how long its restart is watched for.
  void kill_process(const Step& st, const std::string& node) {
    PlannedFault f;
    f.number = ++faults_;
    f.shape = "kill_process";
    f.killed_on = node;
    f.kill_target = st.target;
    f.duration_ms = ms(st);
    if (f.duration_ms < proto::KillProcessRequest::min_restart_window_ms ||
        f.duration_ms > proto::KillProcessRequest::max_restart_window_ms)
      throw ScheduleError(st.where,
                          "restart_within must be from 10ms to 60s (" + std::to_string(f.duration_ms) + " ms)");
    f.window_class = classify(f.duration_ms, c_.window());
    f.topology = effective_topology(c_.nodes, Grudge{});
    f.requested = st.duration.text;
    f.line = st.where.line;
    out_.emplace_back(std::move(f));
  }

  // A stress drops nothing and stops nothing: the node's schedulers are kept busy by max-
  // priority hogs, so its ticks may run late. No link is cut (the topology is the full mesh);
  // its agent is asked.
  void stress(const Step& st, const std::string& node) {
    PlannedFault f;
    f.number = ++faults_;
    f.shape = "stress";
    f.stressed = node;
    f.hogs = st.hogs;
    f.duration_ms = ms(st);
    f.window_class = classify(f.duration_ms, c_.window());
    f.call_class = call_class_of(st);
    f.topology = effective_topology(c_.nodes, Grudge{});
    f.requested = st.duration.text;
    f.line = st.where.line;
    out_.emplace_back(std::move(f));
  }

  void fault(const Step& st, std::string shape, Groups groups, Grudge grudge) {
    PlannedFault f;
    f.number = ++faults_;
    f.shape = std::move(shape);
    f.groups = std::move(groups);
    f.grudge = std::move(grudge);
    f.duration_ms = ms(st);
    f.window_class = classify(f.duration_ms, c_.window());
    f.call_class = call_class_of(st);
    f.loss = st.loss;
    auto drops = per_agent(f.grudge, [this](const std::string& n) { return c_.agent_of.at(n); });
    if (const auto* conflict = std::get_if<DropConflict>(&drops)) throw ScheduleError(st.where, conflict->message());
    f.drops = std::get<std::vector<AgentDrop>>(std::move(drops));
    // A shape that cuts nothing (one node isolated from no one) would "land" with nothing armed.
    if (f.drops.empty()) throw ScheduleError(st.where, "this " + f.shape + " cuts no node from another");
    f.topology = effective_topology(c_.nodes, f.grudge);
    f.warnings = topology_warnings(f.shape, c_.nodes, f.topology);
    f.requested = st.duration.text;
    f.line = st.where.line;
    out_.emplace_back(std::move(f));
  }

  void walk(const std::vector<Step>& steps) {
    for (const auto& st : steps) {
      switch (st.kind) {
        case Step::Kind::isolate: {
          std::string node = st.node;
          if (node == "random_node") node = shuffled().front();
          known(node, st.where);
          Groups g{{node}, {}};
          for (const auto& n : c_.nodes)
            if (n != node) g[1].push_back(n);
          fault(st, "isolate", g, complete_grudge(g));
          break;
        }
        case Step::Kind::partition: {
          if (st.shape == "groups") {
            for (const auto& g : st.groups)
              for (const auto& n : g) known(n, st.where);
            fault(st, "groups", st.groups, complete_grudge(st.groups));
          } else if (st.shape == "random_halves") {
            auto g = halves(shuffled());
            fault(st, "halves", g, complete_grudge(g));
          } else if (st.shape == "random_node") {
            auto v = shuffled();
            Groups g{{v.front()}, {v.begin() + 1, v.end()}};
            fault(st, "isolate", g, complete_grudge(g));
          } else if (st.shape == "majorities_ring") {
            if (c_.nodes.size() < 3) throw ScheduleError(st.where, "majorities_ring needs at least 3 nodes");
            fault(st, "majorities_ring", {}, majorities_ring(shuffled()));
          } else {
            if (c_.nodes.size() < 3) throw ScheduleError(st.where, "bridge needs at least 3 nodes");
            fault(st, "bridge", {}, bridge(shuffled()));
          }
          break;
        }
        case Step::Kind::one_way:
          known(st.from, st.where);
          known(st.to, st.where);
          fault(st, "one_way", {}, Grudge{{st.to, {st.from}}});
          break;
        case Step::Kind::pause: {
          std::string node = st.node;
          if (node == "random_node") node = shuffled().front();
          known(node, st.where);
          pause(st, node);
          break;
        }
        case Step::Kind::kill_node: {
          std::string node = st.node;
          if (node == "random_node") node = shuffled().front();
          known(node, st.where);
          kill_node(st, node);
          break;
        }
        case Step::Kind::kill_process: {
          std::string node = st.node;
          if (node == "random_node") node = shuffled().front();
          known(node, st.where);
          kill_process(st, node);
          break;
        }
        case Step::Kind::stress: {
          std::string node = st.node;
          if (node == "random_node") node = shuffled().front();
          known(node, st.where);
          stress(st, node);
          break;
        }
        case Step::Kind::wait:
          out_.emplace_back(PlannedWait{ms(st)});
          break;
        case Step::Kind::repeat:
          for (int i = 0; i < st.times; ++i) walk(st.steps);
          break;
      }
    }
  }

  const Schedule& s_;
  const ClusterInfo& c_;
  Rng rng_;
  std::vector<PlannedStep> out_;
  int faults_ = 0;
};

}  // namespace

std::vector<PlannedStep> make_plan(const Schedule& s, const ClusterInfo& c, std::uint64_t seed) {
  return Planner(s, c, seed).run();
}

}  // namespace ticksplit::ctl
