#include "controller/report/model.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "controller/plan/topology.hpp"
#include "controller/report/stress_evidence.hpp"
#include "controller/report/summary.hpp"

namespace ticksplit::ctl {

using nlohmann::json;

namespace {

constexpr std::int64_t kMaxMs = std::int64_t{366} * 24 * 3600 * 1000;  // what a fault or an outage may claim

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t num(const json& j, const char* key, std::int64_t otherwise = 0) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : otherwise;
}

std::vector<Link> links_of(const json& j) {
  std::vector<Link> out;
  if (!j.is_array()) return out;
  for (const auto& l : j)
    if (l.is_array() && l.size() == 2 && l[0].is_string() && l[1].is_string()) {
      const auto a = l[0].get<std::string>(), b = l[1].get<std::string>();
      out.push_back(a < b ? Link{a, b} : Link{b, a});
    }
  std::sort(out.begin(), out.end());
  return out;
}

std::string seconds_text(std::int64_t us) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(us) / 1e6);
  return buf;
}

// A fault_start line → the fault as planned (its topology as recorded, or computed from its
// drop sets for a history written before fault_start carried it).
FaultOutcome fault_of(const json& l, const std::vector<std::string>& nodes) {
  FaultOutcome f;
  f.id = str(l, "fault");
  f.fault.number = static_cast<int>(num(l, "number"));
  f.fault.shape = str(l, "shape");
  f.fault.duration_ms = std::clamp<std::int64_t>(num(l, "requested_ms"), 0, kMaxMs);
  f.fault.requested = l.contains("requested") && l["requested"].is_string() ? str(l, "requested")
                                                                           : std::to_string(f.fault.duration_ms) + "ms";
  f.fault.window_class = window_class_from(str(l, "window_class")).value_or(WindowClass::in_window);
  if (f.fault.shape == "pause" && l.contains("node") && l["node"].is_string()) f.fault.paused = str(l, "node");
  if (f.fault.shape == "kill_node" && l.contains("node") && l["node"].is_string()) {
    f.fault.killed = str(l, "node");
    if (l.contains("restart_after_ms") && l["restart_after_ms"].is_number_integer())
      f.fault.restart_after_ms = l["restart_after_ms"].get<std::int64_t>();
  }
  if (f.fault.shape == "stress" && l.contains("node") && l["node"].is_string()) f.fault.stressed = str(l, "node");
  if (l.contains("loss") && l["loss"].is_number())  // absent before loss existed: total
    f.fault.loss = proto::Loss::of_probability(l["loss"].get<double>()).value_or(proto::Loss{});
  if (l.contains("drop_sets") && l["drop_sets"].is_object())
    for (const auto& [node, peers] : l["drop_sets"].items())
      if (peers.is_array())
        for (const auto& p : peers)
          if (p.is_string()) f.fault.grudge[node].insert(p.get<std::string>());
  if (l.contains("links_cut")) {
    f.fault.topology.cut = links_of(l["links_cut"]);
    f.fault.topology.one_way = links_of(l.value("links_one_way", json::array()));
    f.fault.topology.up = links_of(l.value("links_up", json::array()));
  } else {
    f.fault.topology = effective_topology(nodes, f.fault.grudge);
  }
  f.start_us = num(l, "time_us");
  f.end_us = f.start_us + f.fault.duration_ms * 1000;
  return f;
}

// Hover text of a log line: its first kMaxTitle bytes (a whole line is in the history).
constexpr std::size_t kMaxTitle = 300;

std::string cut_text(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // a character boundary
  s.resize(end);
  return s + "...";
}

std::string reason_css(const std::string& reason) {
  if (reason == "net_tick_timeout" || reason == "connection_closed" || reason == "disconnect") return reason;
  return "other";
}

}  // namespace

ReportModel build_model(const HistoryLines& history) {
  ReportModel m;
  m.notes = history.problems;
  const auto& lines = history.lines;
  if (lines.empty()) return m;
  m.from_us = num(lines.front(), "time_us");
  m.to_us = num(lines.back(), "time_us");
  std::set<std::string> lane_set;
  const auto lane = [&](const std::string& n) {
    if (!n.empty() && lane_set.insert(n).second) m.lanes.push_back(n);
  };
  // Every run_start (ticksplit-ctl's, a workload's), the first to name a field giving it.
  for (const auto& l : lines)
    if (str(l, "kind") == "run_start") {
      for (const auto& [k, v] : l.items())
        if (!m.run.contains(k)) m.run[k] = v;
      if (l.contains("nodes") && l["nodes"].is_array())
        for (const auto& n : l["nodes"])
          if (n.is_string()) lane(n.get<std::string>());
    }
  m.cluster.net_ticktime_ms = num(m.run, "net_ticktime_ms");
  m.cluster.tick_intensity = num(m.run, "tick_intensity", 4);
  if (m.cluster.net_ticktime_ms > 0) {
    m.window = m.cluster.window();
  } else if (const auto w = m.run.find("window_ms");
             w != m.run.end() && w->is_array() && w->size() == 2 && (*w)[0].is_number_integer() && (*w)[1].is_number_integer()) {
    m.window = TickWindow{(*w)[0].get<std::int64_t>(), (*w)[1].get<std::int64_t>()};  // a workload's: no T
  }
  // Every visible node that saw or was seen, and every node a fault names, gets a lane too.
  for (const auto& l : lines) {
    const auto kind = str(l, "kind");
    if ((kind == "nodeup" || kind == "nodedown") && str(l, "node_type") != "hidden") {
      lane(str(l, "observer"));
      lane(str(l, "peer"));
    } else if (kind == "fault_start" && l.contains("drop_sets") && l["drop_sets"].is_object()) {
      for (const auto& [node, peers] : l["drop_sets"].items()) lane(node);
    } else if (kind == "log") {
      lane(str(l, "node"));
    }
  }
  m.cluster.nodes = m.lanes;

  std::map<std::string, std::size_t> fault_index;  // by id
  std::map<std::int64_t, std::vector<const json*>> open_ops;  // by process: the invoke awaiting its completion
  std::map<std::int64_t, std::size_t> processes;
  for (const auto& l : lines) {
    const auto kind = str(l, "kind");
    const auto t = num(l, "time_us");
    if (kind == "fault_start") {
      m.faults.push_back(fault_of(l, m.lanes));
      if (m.faults.size() > 1) m.faults[m.faults.size() - 2].followed_until_us = t;
      fault_index[m.faults.back().id] = m.faults.size() - 1;
    } else if (kind == "fault_end") {
      const auto it = fault_index.find(str(l, "fault"));
      if (it == fault_index.end()) continue;
      auto& f = m.faults[it->second];
      f.landed = !(l.contains("landed") && l["landed"] == false);
      // bounded so that a rate's sum cannot overflow, whatever the file says
      constexpr std::int64_t kMaxPackets = std::int64_t{1} << 61;
      f.dropped_packets = std::clamp<std::int64_t>(num(l, "dropped_packets"), 0, kMaxPackets);
      f.passed_packets = std::clamp<std::int64_t>(num(l, "passed_packets"), 0, kMaxPackets);
      f.effective_outage_us = std::clamp<std::int64_t>(num(l, "effective_outage_us", -1), -1, kMaxMs * 1000);
      f.end_us = std::min(f.end_us, t);  // healed early (a stopped run), else the planned end
      if (l.contains("agents") && l["agents"].is_object())
        for (const auto& [agent, evidence] : l["agents"].items()) read_stress_evidence(evidence, f);
    } else if (kind == "nodeup" || kind == "nodedown") {
      ReportModel::Mark mark{t, str(l, "observer"), kind, "", ""};
      const auto peer = str(l, "peer"), reason = str(l, "reason"), type = str(l, "node_type");
      const bool hidden = type == "hidden";
      std::string attributed;
      if (!m.faults.empty() && t >= m.faults.back().start_us) {
        auto& f = m.faults.back();
        if (kind == "nodedown") {
          NodeDown d{mark.lane, peer, reason, type, t - f.start_us, hidden, false, t >= f.end_us};
          d.cascade = !hidden && !is_cut(f.fault.topology, mark.lane, peer);
          f.nodedowns.push_back(d);
          mark.css = std::string(d.cascade ? "cascade " : "") + (d.after_window ? "late " : "");
        } else if (t >= f.end_us) {
          f.nodeups.push_back({mark.lane, peer, type, t - f.end_us});
        }
        attributed = ", fault " + std::to_string(f.fault.number) +
                     (mark.css.find("cascade") != std::string::npos ? ", a cascade (link not cut)" : "") +
                     (mark.css.find("late") != std::string::npos ? ", after the window closed" : "");
      }
      mark.css += (hidden ? "hidden " : "") + (kind == "nodedown" ? reason_css(reason) : std::string("up"));
      mark.title = seconds_text(t - m.from_us) + ": " + mark.lane + " saw " + kind + " of " + peer +
                   (reason.empty() ? "" : " (" + reason + ")") + (hidden ? ", a hidden node" : "") + attributed;
      m.marks.push_back(std::move(mark));
    } else if (kind == "log") {
      const auto level = str(l, "level");
      m.marks.push_back({t, str(l, "node"), "log", "level-" + level,
                         seconds_text(t - m.from_us) + ": [" + level + "] " + cut_text(str(l, "message"), kMaxTitle)});
    } else if (kind == "op" && l.contains("process") && l["process"].is_number_integer()) {
      const auto p = l["process"].get<std::int64_t>();
      processes.emplace(p, processes.size());
      auto& open = open_ops[p];
      if (str(l, "type") == "invoke") {
        open = {&l};
      } else if (!open.empty()) {
        const json& inv = *open.front();
        const auto from = num(inv, "time_us");
        auto type = str(l, "type");
        if (type != "ok" && type != "fail") type = "info";  // anything else is indeterminate
        const auto value = (type == "ok" ? l : inv).value("value", json());
        m.ops.push_back({p, from, t, type,
                         "process " + std::to_string(p) + ": " + str(inv, "f") + " " + value.dump() + " → " + type +
                             (l.contains("error") ? " " + l["error"].dump() : "") + " (" +
                             seconds_text(t - from) + ")"});
        open.clear();
      }
    }
  }
  for (const auto& [p, open] : open_ops)
    if (!open.empty()) {
      const json& inv = *open.front();
      m.ops.push_back({p, num(inv, "time_us"), m.to_us, "info",
                       "process " + std::to_string(p) + ": " + str(inv, "f") + " never completed"});
    }
  std::sort(m.ops.begin(), m.ops.end(), [](const auto& a, const auto& b) { return a.from_us < b.from_us; });
  for (const auto& [p, order] : processes) m.processes.push_back(p);
  if (!m.faults.empty()) m.faults.back().followed_until_us = m.to_us;

  // The bands: each fault's drop window on the nodes it cut, the outage beyond it, the
  // detection window after its start.
  const auto& w = m.window;
  for (std::size_t k = 0; k < m.faults.size(); ++k) {
    const auto& f = m.faults[k];
    std::set<std::string> cut_nodes;
    for (const auto& [a, b] : f.fault.topology.cut) cut_nodes.insert({a, b});
    const auto n = k;
    const auto what = "fault " + std::to_string(f.fault.number) + " (" + f.fault.shape + ", " + f.fault.requested + " = " +
                      std::to_string(f.fault.duration_ms) + " ms, " + window_class_name(f.fault.window_class) +
                      (f.fault.loss.total() ? "" : ", loss " + loss_column(f)) + ")";
    for (const auto& node : cut_nodes) {
      m.bands.push_back({ReportModel::Band::Kind::drop, n, node, f.start_us, f.end_us, what + ": drop window"});
      if (f.effective_outage_us > (f.end_us - f.start_us))
        m.bands.push_back({ReportModel::Band::Kind::outage, n, node, f.end_us, f.start_us + f.effective_outage_us,
                           what + ": effective outage " + seconds_text(f.effective_outage_us)});
    }
    if (w)
      m.bands.push_back({ReportModel::Band::Kind::detection, n, "", f.start_us + w->min_ms * 1000,
                         f.start_us + w->max_ms * 1000,
                         what + ": detection window " + std::to_string(w->min_ms) + "-" + std::to_string(w->max_ms) +
                             " ms after its start"});
    if (!f.landed) m.notes.push_back(what + " did not land");
  }
  for (const auto& f : m.faults)
    if (std::none_of(lines.begin(), lines.end(), [&f](const json& l) { return str(l, "kind") == "fault_end" && str(l, "fault") == f.id; }))
      m.notes.push_back("fault " + std::to_string(f.fault.number) + " has no fault_end (the history ends first): drawn to its planned end");
  return m;
}

}  // namespace ticksplit::ctl
