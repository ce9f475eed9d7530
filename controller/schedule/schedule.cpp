#include "controller/schedule/schedule.hpp"

#include "common/loss.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "common/duration.hpp"
#include "common/node_name.hpp"

namespace ticksplit::ctl {
namespace {

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Where at(const YAML::Node& n) const { return {file_, n.Mark().line + 1}; }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const { throw ScheduleError(at(n), msg); }

  void only_keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& what) const {
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(kv.first, "unknown key '" + key + "' in " + what + " (expected one of: " + list + ")");
      }
    }
  }

  std::string text(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar() || n.Scalar().empty()) fail(n, what + " must be a non-empty string");
    return n.Scalar();
  }

  std::string node_name(const YAML::Node& n, const std::string& what) const {
    auto s = text(n, what);
    if (!valid_node_name(s)) fail(n, what + " '" + s + "' is not a node name (name@host)");
    return s;
  }

  std::vector<std::string> node_list(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence() || n.size() == 0) fail(n, what + " must be a non-empty list of node names");
    std::vector<std::string> out;
    for (const auto& item : n) out.push_back(node_name(item, what));
    return out;
  }

  DurationSpec duration(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar())
      fail(n, what + " must be a duration (1500ms, 3s, 1.3T, below_window, in_window, above_window, "
                     "below_call_timeout, around_call_timeout, above_call_timeout)");
    auto d = parse_duration_spec(n.Scalar());
    if (!d) fail(n, what + ": " + d.error().message);
    return *d;
  }

  // `call_timeout: 1s`: the gen_server:call timeout the call classes are sized by.
  std::int64_t call_timeout(const YAML::Node& n) const {
    const std::string what = "call_timeout must be a duration from " + std::to_string(min_call_timeout_ms / 1000) +
                             "s to " + std::to_string(max_call_timeout_ms / 1000) + "s, such as 5s";
    if (!n.IsScalar()) fail(n, what);
    auto ms = parse_duration_ms(n.Scalar());
    if (!ms) fail(n, "call_timeout: " + ms.error().message);
    if (*ms < min_call_timeout_ms || *ms > max_call_timeout_ms)
      fail(n, what + " (below 1 s TCP's 200 ms minimum retransmission timeout blurs the classes)");
    return *ms;
  }

  std::vector<Step> steps(const YAML::Node& list) const {
    if (!list.IsSequence() || list.size() == 0) fail(list, "steps must be a non-empty list");
    std::vector<Step> out;
    for (const auto& item : list) out.push_back(step(item));
    return out;
  }

  Step step(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "a step must be a map such as {isolate: NODE, for: 3s}");
    Step s;
    s.where = at(n);
    s.call_timeout_ms = call_timeout_ms_;
    const auto fault_for = [&](const char* kind) {
      if (std::string(kind) == "pause")  // a stopped process has no packets to lose
        only_keys(n, {kind, "for", "call_timeout"}, std::string(kind) + " step");
      else if (std::string(kind) == "stress")  // nor does a busy one: its packets are late, not lost
        only_keys(n, {kind, "for", "hogs"}, std::string(kind) + " step");
      else
        only_keys(n, {kind, "for", "loss", "call_timeout"}, std::string(kind) + " step");
      if (!n["for"]) fail(n, std::string(kind) + " step needs 'for' (how long the fault lasts)");
      s.duration = duration(n["for"], "'for'");
      if (const auto& c = n["call_timeout"]) {
        if (!std::holds_alternative<CallClass>(s.duration.value))
          fail(c, "'call_timeout' sizes a call-timeout class: give 'for' one of below_call_timeout, "
                  "around_call_timeout, above_call_timeout");
        s.call_timeout_ms = call_timeout(c);
      }
      if (const auto& l = n["loss"]) {
        if (!l.IsScalar()) fail(l, "'loss' must be a percentage (30%) or a probability (0.3)");
        auto loss = parse_loss(l.Scalar());
        if (!loss) fail(l, "'loss': " + loss.error().message);
        s.loss = *loss;
      }
    };
    if (n["isolate"]) {
      s.kind = Step::Kind::isolate;
      fault_for("isolate");
      const auto& v = n["isolate"];
      s.node = v.IsScalar() && v.Scalar() == "random_node" ? "random_node" : node_name(v, "isolate");
    } else if (n["pause"]) {
      s.kind = Step::Kind::pause;
      fault_for("pause");
      const auto& v = n["pause"];
      s.node = v.IsScalar() && v.Scalar() == "random_node" ? "random_node" : node_name(v, "pause");
    } else if (n["kill_node"]) {
      s.kind = Step::Kind::kill_node;
      only_keys(n, {"kill_node", "restart_after"}, "kill_node step");
      const auto& v = n["kill_node"];
      s.node = v.IsScalar() && v.Scalar() == "random_node" ? "random_node" : node_name(v, "kill_node");
      if (const auto& r = n["restart_after"]) s.restart_after = duration(r, "'restart_after'");
    } else if (n["stress"]) {
      s.kind = Step::Kind::stress;
      fault_for("stress");
      const auto& v = n["stress"];
      s.node = v.IsScalar() && v.Scalar() == "random_node" ? "random_node" : node_name(v, "stress");
      if (const auto& h = n["hogs"]) {
        std::int64_t hogs = 0;
        if (!h.IsScalar() || !YAML::convert<std::int64_t>::decode(h, hogs) || hogs < 1 || hogs > 16)
          fail(h, "'hogs' must be a whole number from 1 to 16 (busy processes per online scheduler)");
        s.hogs = hogs;
      }
    } else if (n["partition"]) {
      s.kind = Step::Kind::partition;
      fault_for("partition");
      const auto& v = n["partition"];
      if (v.IsScalar()) {
        static const std::set<std::string> shapes{"random_halves", "majorities_ring", "bridge", "random_node"};
        if (!shapes.count(v.Scalar()))
          fail(v, "unknown partition shape '" + v.Scalar() +
                      "' (random_halves, majorities_ring, bridge, random_node, or a list of groups)");
        s.shape = v.Scalar();
      } else if (v.IsSequence() && v.size() >= 2) {
        s.shape = "groups";
        std::set<std::string> seen;
        for (const auto& g : v) {
          s.groups.push_back(node_list(g, "a group"));
          for (const auto& node : s.groups.back())
            if (!seen.insert(node).second) fail(g, "node " + node + " is in more than one group");
        }
      } else {
        fail(v, "partition must be a shape name or a list of at least two groups of nodes");
      }
    } else if (n["one_way"]) {
      s.kind = Step::Kind::one_way;
      fault_for("one_way");
      const auto& v = n["one_way"];
      if (!v.IsMap()) fail(v, "one_way must be {from: NODE, to: NODE}");
      only_keys(v, {"from", "to"}, "one_way");
      if (!v["from"] || !v["to"]) fail(v, "one_way needs both 'from' and 'to'");
      s.from = node_name(v["from"], "one_way from");
      s.to = node_name(v["to"], "one_way to");
      if (s.from == s.to) fail(v, "one_way from and to are the same node");
    } else if (n["kill_process"]) {
      kill_process(n, s);
    } else if (n["wait"]) {
      s.kind = Step::Kind::wait;
      only_keys(n, {"wait"}, "wait step");
      s.duration = duration(n["wait"], "wait");
    } else if (n["repeat"]) {
      s.kind = Step::Kind::repeat;
      only_keys(n, {"repeat", "steps"}, "repeat step");
      const auto& r = n["repeat"];
      int times = 0;
      if (!r.IsScalar() || !YAML::convert<int>::decode(r, times) || times < 1 || times > 10000)
        fail(r, "repeat must be a count from 1 to 10000");
      s.times = times;
      if (!n["steps"]) fail(n, "repeat needs 'steps'");
      s.steps = steps(n["steps"]);
    } else {
      const auto first = n.begin()->first;
      fail(first,
           "unknown step '" + first.as<std::string>() +
               "' (expected isolate, partition, one_way, pause, kill_node, kill_process, stress, wait or "
               "repeat)");
    }
    return s;
  }

  // {kill_process: {node: NODE | random_node, name: NAME | supervisor: SUP}, restart_within: 1s}
  void kill_process(const YAML::Node& n, Step& s) const {
    s.kind = Step::Kind::kill_process;
    only_keys(n, {"kill_process", "restart_within"}, "kill_process step");
    const auto& v = n["kill_process"];
    if (!v.IsMap()) fail(v, "kill_process must be {node: NODE, name: NAME} or {node: NODE, supervisor: SUP}");
    only_keys(v, {"node", "name", "supervisor"}, "kill_process");
    if (!v["node"]) fail(v, "kill_process needs 'node' (a node, or random_node)");
    s.node = v["node"].IsScalar() && v["node"].Scalar() == "random_node" ? "random_node"
                                                                         : node_name(v["node"], "kill_process node");
    if (!v["name"] == !v["supervisor"]) fail(v, "kill_process needs exactly one of 'name' and 'supervisor'");
    const bool by_name = static_cast<bool>(v["name"]);
    const auto name = text(v[by_name ? "name" : "supervisor"], by_name ? "name" : "supervisor");
    if (name.size() > 255 || name == "undefined")
      fail(v, "kill_process " + std::string(by_name ? "name" : "supervisor") +
                  " must be a registered name (an atom of at most 255 characters)");
    s.target = {by_name ? proto::ProcessTarget::Kind::name : proto::ProcessTarget::Kind::child_of, name};
    s.duration = *parse_duration_spec("1s");  // the agent's default
    if (const auto& w = n["restart_within"]) {
      s.duration = duration(w, "'restart_within'");
      if (!std::holds_alternative<Duration>(s.duration.value))
        fail(w, "'restart_within' must be a duration such as 500ms or 2s, not a window class");
    }
  }

  Schedule schedule(const YAML::Node& root) {
    if (!root.IsMap()) fail(root, "a schedule is a map with 'agents' and 'steps'");
    only_keys(root,
              {"agents", "cookie_file", "seed", "nodes", "net_ticktime", "tick_intensity", "call_timeout", "steps"},
              "the schedule");
    Schedule s;
    s.file = file_;
    if (!root["agents"]) fail(root, "the schedule needs 'agents' (the ticksplit agents' node names)");
    s.agents = node_list(root["agents"], "agents");
    if (root["cookie_file"]) s.cookie_file = text(root["cookie_file"], "cookie_file");
    if (const auto& seed = root["seed"]) {
      std::uint64_t v = 0;
      if (!seed.IsScalar()) fail(seed, "seed must be an integer >= 0");
      const auto& t = seed.Scalar();
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (!seed.IsScalar() || ec != std::errc{} || end != t.data() + t.size())
        fail(seed, "seed must be an integer >= 0");
      s.seed = v;
    }
    if (root["nodes"]) s.nodes = node_list(root["nodes"], "nodes");
    if (const auto& t = root["net_ticktime"]) {
      if (!t.IsScalar()) fail(t, "net_ticktime must be a duration such as 2s or 60s");
      auto ms = parse_duration_ms(t.Scalar());
      if (!ms) fail(t, "net_ticktime: " + ms.error().message);
      // OTP's net_ticktime is whole seconds; a day bounds what durations in T scale by.
      if (*ms % 1000 != 0 || *ms > 86'400'000)
        fail(t, "net_ticktime must be whole seconds, at most a day (OTP's net_ticktime), such as 2s or 60s");
      s.net_ticktime_ms = *ms;
    }
    if (const auto& i = root["tick_intensity"]) {
      int v = 0;
      if (!i.IsScalar() || !YAML::convert<int>::decode(i, v) || v < 4 || v > 1000)
        fail(i, "tick_intensity must be an integer from 4 to 1000");
      s.tick_intensity = v;
    }
    if (!s.nodes.empty() != s.net_ticktime_ms.has_value())
      fail(root, "give 'nodes' and 'net_ticktime' together (to plan without asking the agents), or neither");
    if (const auto& c = root["call_timeout"]) s.call_timeout_ms = call_timeout_ms_ = call_timeout(c);
    if (!root["steps"]) fail(root, "the schedule needs 'steps'");
    s.steps = steps(root["steps"]);
    return s;
  }

 private:
  std::string file_;
  std::int64_t call_timeout_ms_ = default_call_timeout_ms;  // the schedule's, for its steps
};

}  // namespace

Result<DurationSpec> parse_duration_spec(const std::string& text) {
  if (auto c = window_class_from(text)) return DurationSpec{*c, text};
  if (auto c = call_class_from(text)) return DurationSpec{*c, text};
  auto d = parse_duration(text, true);
  if (!d) {
    auto e = d.error();
    if (e.code == static_cast<int>(DurationError::syntax)) e.message +=
          "; or a class: below_window, in_window, above_window, below_call_timeout, around_call_timeout, "
          "above_call_timeout";
    return e;
  }
  if (d->unit != Duration::Unit::ticks)
    if (auto ms = d->ms(); !ms) return ms.error();  // zero or too large is known already
  return DurationSpec{*d, text};
}

Schedule parse_schedule(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ScheduleError({file, e.mark.line + 1}, "not valid YAML: " + e.msg);
  }
  try {
    return Parser(file).schedule(root);
  } catch (const YAML::Exception& e) {
    throw ScheduleError({file, e.mark.line + 1}, e.msg);
  }
}

Schedule load_schedule(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScheduleError({path, 0}, "cannot read the schedule");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_schedule(ss.str(), path);
}

}  // namespace ticksplit::ctl
