#include "controller/report/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <sstream>

#include "controller/report/summary.hpp"

namespace ticksplit::ctl {

namespace {

constexpr double kWidth = 1400, kLeft = 190, kRight = 20;
constexpr double kNodeLane = 24, kOpLane = 12, kAxis = 24;

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  return out;
}

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Scale {
  std::int64_t from, to;
  [[nodiscard]] double x(std::int64_t us) const {
    const double span = std::max<double>(1, static_cast<double>(to - from));
    return kLeft + (kWidth - kLeft - kRight) * std::clamp(static_cast<double>(us - from) / span, 0.0, 1.0);
  }
};

// Seconds ticks every 1, 2, 5, 10... s, about 10 of them.
std::string axis(const Scale& s, double y, double height) {
  std::ostringstream o;
  const double span_s = static_cast<double>(s.to - s.from) / 1e6;
  // The smallest of 1, 2, 5 × 10^k s (k from -1) that makes at most 12 ticks.
  double step = 0.1;
  for (int i = 0; span_s / step > 12; ++i) step *= i % 3 == 1 ? 2.5 : 2;  // 0.1 0.2 0.5 1 2 5 10 ...
  for (double t = 0; t <= span_s + 1e-9; t += step) {
    const double x = s.x(s.from + static_cast<std::int64_t>(t * 1e6));
    o << "<line class=\"grid\" x1=\"" << f1(x) << "\" x2=\"" << f1(x) << "\" y1=\"" << f1(y) << "\" y2=\""
      << f1(y + height) << "\"/><text class=\"tick\" x=\"" << f1(x) << "\" y=\"" << f1(y - 6) << "\">"
      << f1(t) << " s</text>";
  }
  return o.str();
}

const char* kCss = R"(body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin-top:24px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
pre{background:#f6f6f6;padding:8px;overflow-x:auto}
.lane-label{font:11px monospace;text-anchor:end}.tick{font:10px sans-serif;text-anchor:middle;fill:#666}
.grid{stroke:#eee}.lane{fill:#fafafa}.op-lane-bg{fill:#fcfcfc}
.drop-window{fill:#e4572e;opacity:.55}.outage{fill:#e4572e;opacity:.2}
.detect-band{fill:#4c72b0;opacity:.12}.fault-shade{fill:#e4572e;opacity:.12}
.mark{stroke-width:2}.nodedown{stroke:#c00}.nodedown.net_tick_timeout{stroke:#a00}
.nodedown.connection_closed{stroke:#d95f02}.nodedown.disconnect{stroke:#7570b3}.nodedown.other{stroke:#666}
.nodedown.cascade{stroke:#e7298a;stroke-dasharray:2 1}.nodedown.hidden{stroke:#999;stroke-dasharray:1 2}
.nodeup{stroke:#1b9e77}.log{fill:#e6ab02;stroke:none}.log.level-error,.log.level-critical,.log.level-alert,
.log.level-emergency{fill:#c00}
.mark.agg.log{fill:#e6ab02}.mark.agg.node-event{fill:#a00}
.anomaly{fill:none;stroke:#c00;stroke-width:2}.fault.named .drop-window{stroke:#c00;stroke-width:1.5}
.op.ok{fill:#66a61e}.op.fail{fill:#d95f02}.op.info{fill:#7570b3}
.lat.ok{fill:#66a61e}.lat.fail{fill:#d95f02}.lat.info{fill:#7570b3}
.legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
)";

}  // namespace

std::string report_html(const ReportModel& m, const std::string& title) {
  std::ostringstream o;
  const Scale s{m.from_us, std::max(m.to_us, m.from_us + 1)};
  o << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ticksplit report: " << esc(title)
    << "</title><style>" << kCss << "</style></head><body>\n";
  o << "<h1>ticksplit report: " << esc(title) << "</h1>\n";

  // The run's metadata.
  o << "<table class=\"meta\">";
  const auto row = [&o](const std::string& k, const std::string& v) {
    o << "<tr><th>" << esc(k) << "</th><td>" << esc(v) << "</td></tr>";
  };
  for (const char* k : {"seed", "agents", "nodes", "net_ticktime_ms", "tick_intensity", "window_ms", "source", "clients"})
    if (m.run.contains(k)) row(k, m.run[k].is_string() ? m.run[k].get<std::string>() : m.run[k].dump());
  row("span", f1(static_cast<double>(m.to_us - m.from_us) / 1e6) + " s");
  row("faults", std::to_string(m.faults.size()));
  row("operations", std::to_string(m.ops.size()) + " on " + std::to_string(m.processes.size()) + " client process(es)");
  o << "</table>\n";
  if (!m.notes.empty()) {
    o << "<ul class=\"notes\">";
    for (const auto& n : m.notes) o << "<li>" << esc(n) << "</li>";
    o << "</ul>\n";
  }

  // The timeline: node lanes, then client lanes.
  const bool aggregate = m.ops.size() > max_drawn_ops;
  const double nodes_h = kNodeLane * static_cast<double>(m.lanes.size());
  const double ops_top = kAxis + nodes_h + (m.processes.empty() ? 0 : 12);
  const double height = ops_top + kOpLane * static_cast<double>(m.processes.size()) + 8;
  o << "<h2>Timeline</h2>\n<div class=\"legend\"><span><i class=\"sw drop-window\" style=\"background:#e4572e\"></i>drop "
       "window</span><span><i class=\"sw\" style=\"background:#f5c0b0\"></i>effective outage beyond it</span><span><i "
       "class=\"sw\" style=\"background:#dde3ef\"></i>detection window after the start</span><span><i class=\"sw\" "
       "style=\"background:#a00\"></i>nodedown (colour: reason; dashed: cascade)</span><span><i class=\"sw\" "
       "style=\"background:#1b9e77\"></i>nodeup</span><span><i class=\"sw\" style=\"background:#e6ab02\"></i>log "
       "line</span></div>\n";
  o << "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << f1(height)
    << "\">";
  std::map<std::string, double> lane_y;
  for (std::size_t i = 0; i < m.lanes.size(); ++i) {
    const double y = kAxis + kNodeLane * static_cast<double>(i);
    lane_y[m.lanes[i]] = y;
    o << "<g class=\"node-lane\" data-node=\"" << esc(m.lanes[i]) << "\"><rect class=\"lane\" x=\"" << kLeft << "\" y=\""
      << f1(y + 2) << "\" width=\"" << kWidth - kLeft - kRight << "\" height=\"" << kNodeLane - 4
      << "\"/><text class=\"lane-label\" x=\"" << kLeft - 6 << "\" y=\"" << f1(y + kNodeLane / 2 + 4) << "\">"
      << esc(m.lanes[i]) << "</text></g>";
  }
  o << axis(s, kAxis, height - kAxis);
  for (const auto& b : m.bands)
    if (b.kind == ReportModel::Band::Kind::detection)
      o << "<rect class=\"detect-band\" x=\"" << f1(s.x(b.from_us)) << "\" y=\"" << kAxis << "\" width=\""
        << f1(std::max(1.0, s.x(b.to_us) - s.x(b.from_us))) << "\" height=\"" << f1(nodes_h) << "\"><title>"
        << esc(b.title) << "</title></rect>";
  std::map<std::size_t, std::vector<const ReportModel::Band*>> by_fault;
  for (const auto& b : m.bands)
    if (b.kind != ReportModel::Band::Kind::detection) by_fault[b.fault].push_back(&b);
  std::set<int> named;  // faults an anomaly names
  for (const auto& a : m.anomalies) named.insert(a.faults.begin(), a.faults.end());
  for (std::size_t k = 0; k < m.faults.size(); ++k) {
    const auto& f = m.faults[k];
    o << "<g class=\"fault" << (named.count(f.fault.number) ? " named" : "") << "\" data-fault=\"" << f.fault.number
      << "\">";
    for (const auto* b : by_fault[k]) {
      const auto it = lane_y.find(b->lane);
      if (it == lane_y.end()) continue;
      o << "<rect class=\"" << (b->kind == ReportModel::Band::Kind::drop ? "drop-window" : "outage") << "\" x=\""
        << f1(s.x(b->from_us)) << "\" y=\"" << f1(it->second + 4) << "\" width=\""
        << f1(std::max(1.0, s.x(b->to_us) - s.x(b->from_us))) << "\" height=\"" << kNodeLane - 8 << "\"><title>"
        << esc(b->title) << "</title></rect>";
    }
    o << "</g>";
  }
  // Marks one by one, or past max_drawn_marks of a kind (node events, log lines), one per lane
  // and time bucket with how many it holds.
  const auto bucket_of = [&s](std::int64_t us) {
    const auto span = std::max<std::int64_t>(1, s.to - s.from);
    return static_cast<std::size_t>(std::clamp<std::int64_t>((us - s.from) * static_cast<std::int64_t>(report_buckets) / span, 0,
                                                             static_cast<std::int64_t>(report_buckets) - 1));
  };
  std::size_t logs = 0;
  for (const auto& mk : m.marks) logs += mk.kind == "log" ? 1 : 0;
  const bool bucket_logs = logs > max_drawn_marks, bucket_events = m.marks.size() - logs > max_drawn_marks;
  std::map<std::tuple<std::string, std::string, std::size_t>, std::pair<std::size_t, const ReportModel::Mark*>> mark_buckets;
  for (const auto& mk : m.marks) {
    const auto it = lane_y.find(mk.lane);
    if (it == lane_y.end()) continue;
    const bool log = mk.kind == "log";
    if (log ? bucket_logs : bucket_events) {
      auto& b = mark_buckets[{mk.lane, log ? "log" : "node-event", bucket_of(mk.time_us)}];
      ++b.first;
      if (b.second == nullptr) b.second = &mk;
      continue;
    }
    const double x = s.x(mk.time_us), y = it->second;
    if (log)
      o << "<circle class=\"mark log " << esc(mk.css) << "\" cx=\"" << f1(x) << "\" cy=\"" << f1(y + kNodeLane - 5)
        << "\" r=\"3\"><title>" << esc(mk.title) << "</title></circle>";
    else
      o << "<line class=\"mark node-event " << esc(mk.kind) << " " << esc(mk.css) << "\" x1=\"" << f1(x) << "\" x2=\""
        << f1(x) << "\" y1=\"" << f1(y + 2) << "\" y2=\"" << f1(y + kNodeLane - 2) << "\"><title>" << esc(mk.title)
        << "</title></line>";
  }
  const double bw = (kWidth - kLeft - kRight) / static_cast<double>(report_buckets);
  for (const auto& [key, b] : mark_buckets) {
    const auto& [lane, kind, bucket] = key;
    const double x = kLeft + bw * static_cast<double>(bucket), y = lane_y[lane];
    o << "<rect class=\"mark agg " << kind << "\" x=\"" << f1(x) << "\" y=\"" << f1(kind == "log" ? y + kNodeLane - 7 : y + 2)
      << "\" width=\"" << f1(bw) << "\" height=\"" << (kind == "log" ? 4 : 3) << "\"><title>" << b.first << " "
      << (kind == "log" ? "log lines" : "node events") << ", the first: " << esc(b.second->title.substr(0, 120))
      << "</title></rect>";
  }
  // Client lanes: each operation from invoke to completion, or time buckets past max_drawn_ops.
  std::map<std::int64_t, double> op_y;
  for (std::size_t i = 0; i < m.processes.size(); ++i) {
    const double y = ops_top + kOpLane * static_cast<double>(i);
    op_y[m.processes[i]] = y;
    o << "<g class=\"op-lane\" data-process=\"" << m.processes[i] << "\"><rect class=\"op-lane-bg\" x=\"" << kLeft
      << "\" y=\"" << f1(y) << "\" width=\"" << kWidth - kLeft - kRight << "\" height=\"" << kOpLane - 2
      << "\"/><text class=\"lane-label\" x=\"" << kLeft - 6 << "\" y=\"" << f1(y + kOpLane - 3) << "\">process "
      << m.processes[i] << "</text></g>";
  }
  if (!aggregate) {
    for (const auto& op : m.ops)
      o << "<rect class=\"op " << op.type << "\" x=\"" << f1(s.x(op.from_us)) << "\" y=\"" << f1(op_y[op.process])
        << "\" width=\"" << f1(std::max(1.0, s.x(op.to_us) - s.x(op.from_us))) << "\" height=\"" << kOpLane - 2
        << "\"><title>" << esc(op.title) << "</title></rect>";
  } else {
    struct Count {
      std::size_t ok = 0, fail = 0, info = 0;
    };
    std::map<std::pair<std::int64_t, std::size_t>, Count> buckets;
    for (const auto& op : m.ops) {
      auto& c = buckets[{op.process, bucket_of(op.from_us)}];
      (op.type == "ok" ? c.ok : op.type == "fail" ? c.fail : c.info)++;
    }
    for (const auto& [key, c] : buckets) {
      const char* worst = c.info > 0 ? "info" : c.fail > 0 ? "fail" : "ok";
      o << "<rect class=\"op agg " << worst << "\" x=\"" << f1(kLeft + bw * static_cast<double>(key.second)) << "\" y=\""
        << f1(op_y[key.first]) << "\" width=\"" << f1(bw) << "\" height=\"" << kOpLane - 2 << "\"><title>process "
        << key.first << ": " << c.ok << " ok, " << c.fail << " fail, " << c.info << " info</title></rect>";
    }
  }
  for (const auto& a : m.anomalies) {
    const auto it = op_y.find(a.process);
    if (it == op_y.end()) continue;
    std::string faults;
    for (int n : a.faults) faults += (faults.empty() ? "" : " ") + std::to_string(n);
    o << "<rect class=\"anomaly\" data-faults=\"" << faults << "\" x=\"" << f1(s.x(a.from_us) - 2) << "\" y=\""
      << f1(it->second - 1) << "\" width=\"" << f1(std::max(1.0, s.x(a.to_us) - s.x(a.from_us)) + 4) << "\" height=\""
      << kOpLane << "\"><title>" << esc(a.title) << "</title></rect>";
  }
  o << "</svg>\n";
  if (!m.anomalies.empty()) {
    o << "<h2>Anomalies</h2>\n<ul class=\"anomalies\">";
    for (const auto& a : m.anomalies) o << "<li>process " << a.process << ": " << esc(a.title) << "</li>";
    o << "</ul>\n";
  }

  // Latency over time, faults shaded (Jepsen's perf plot): every operation, or past
  // max_drawn_ops the slowest of each type per time bucket.
  if (!m.ops.empty()) {
    constexpr double kPlotH = 220;
    std::int64_t max_lat = 1;
    for (const auto& op : m.ops) max_lat = std::max(max_lat, op.to_us - op.from_us);
    const double log_max = std::log10(static_cast<double>(max_lat) / 1000.0 + 1);
    const auto y_of = [&](std::int64_t lat_us) {
      return kAxis + kPlotH - kPlotH * std::log10(static_cast<double>(lat_us) / 1000.0 + 1) / std::max(log_max, 1e-9);
    };
    o << "<h2>Latency</h2>\n<svg class=\"latency\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth
      << "\" height=\"" << f1(kAxis + kPlotH + 10) << "\">";
    for (const auto& f : m.faults)
      o << "<rect class=\"fault-shade\" x=\"" << f1(s.x(f.start_us)) << "\" y=\"" << kAxis << "\" width=\""
        << f1(std::max(1.0, s.x(f.end_us) - s.x(f.start_us))) << "\" height=\"" << kPlotH << "\"><title>fault "
        << f.fault.number << " (" << esc(f.fault.shape) << ")</title></rect>";
    o << axis(s, kAxis, kPlotH);
    for (double ms : {1.0, 10.0, 100.0, 1000.0, 10000.0})
      if (ms * 1000 <= static_cast<double>(max_lat))
        o << "<text class=\"lane-label\" x=\"" << kLeft - 6 << "\" y=\"" << f1(y_of(static_cast<std::int64_t>(ms * 1000)))
          << "\">" << ms << " ms</text>";
    std::vector<const ReportModel::Op*> shown;
    if (!aggregate) {
      for (const auto& op : m.ops) shown.push_back(&op);
    } else {
      std::map<std::pair<std::size_t, std::string>, const ReportModel::Op*> slowest;
      for (const auto& op : m.ops) {
        auto& cur = slowest[{bucket_of(op.from_us), op.type}];
        if (cur == nullptr || op.to_us - op.from_us > cur->to_us - cur->from_us) cur = &op;
      }
      for (const auto& [k, op] : slowest) shown.push_back(op);
    }
    for (const auto* op : shown)
      o << "<circle class=\"lat " << op->type << "\" cx=\"" << f1(s.x(op->from_us)) << "\" cy=\""
        << f1(y_of(op->to_us - op->from_us)) << "\" r=\"2\"><title>" << esc(op->title) << "</title></circle>";
    o << "</svg>\n";
  }

  // The summary: a row per fault, then the same text ticksplit-ctl run prints.
  o << "<h2>Summary</h2>\n<table class=\"summary\"><tr><th>#</th><th>shape</th><th>requested</th><th>class</th><th>loss</th>"
       "<th>effective outage</th><th>dropped</th><th>links cut</th><th>went down</th><th>cut, no nodedown</th>"
       "<th>cascades</th><th>hidden peers</th></tr>";
  for (const auto& f : m.faults) {
    std::size_t down = 0, silent = 0, cascades = 0, hidden = 0;
    for (const auto& l : link_reports(f)) {
      down += l.cut && l.first_down ? 1 : 0;
      silent += l.cut && !l.first_down ? 1 : 0;
      cascades += l.cut ? 0 : 1;
    }
    for (const auto& d : f.nodedowns) hidden += d.hidden ? 1 : 0;
    o << "<tr class=\"summary-row\" data-fault=\"" << f.fault.number << "\"><td>" << f.fault.number << "</td><td>"
      << esc(f.fault.shape) << "</td><td>" << esc(f.fault.requested) << " = " << f.fault.duration_ms << " ms</td><td>"
      << window_class_name(f.fault.window_class) << "</td><td>" << esc(loss_column(f)) << "</td><td>"
      << (!f.landed ? "not landed" : f.effective_outage_us >= 0 ? f1(static_cast<double>(f.effective_outage_us) / 1e6) + " s" : "n/a")
      << "</td><td>" << f.dropped_packets << "</td><td>" << f.fault.topology.cut.size() << "</td><td>" << down
      << "</td><td>" << silent << "</td><td>" << cascades << "</td><td>" << hidden << "</td></tr>";
  }
  o << "</table>\n<pre class=\"summary-text\">" << esc(summary(m.faults, m.cluster)) << "</pre>\n</body></html>\n";
  return o.str();
}

}  // namespace ticksplit::ctl
