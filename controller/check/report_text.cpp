// The report for people: a header, each key's verdict with its anomalies (the operation, what
// was concurrent with it, the model's detail, the faults and nodedowns around it), a line per
// fault, and the verdict last. Times are seconds since the merged history's first line; long
// lists are cut with a count (--json has everything).
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <utility>
#include <vector>

#include "controller/check/report.hpp"
#include "controller/check/text.hpp"

namespace ticksplit::check {
namespace {

using nlohmann::json;

constexpr std::size_t kListMax = 10;       // elements of a value list shown
constexpr std::size_t kConcurrentMax = 5;  // concurrent operations shown
constexpr std::size_t kAnomaliesMax = 10;  // anomalies shown per key
constexpr std::size_t kValidKeysMax = 20;  // valid keys listed one per line

// Seconds since the history's first line, to the millisecond, or to the microsecond when the
// history holds finer times (Jepsen's ns clocks; most of ticksplit's µs stamps): equal-looking
// times would then read as concurrent when they are not.
struct Clock {
  std::int64_t origin_us = 0;
  int decimals = 3;
  explicit Clock(const History& h) : origin_us(h.origin_us) {
    const auto fine = [&](std::int64_t t) { return t != kNever && (t - origin_us) % 1000 != 0; };
    bool micro = false;
    for (const auto& op : h.ops) micro = micro || fine(op.call_us) || fine(op.return_us);
    for (const auto& f : h.faults) micro = micro || fine(f.start_us) || fine(f.end_us);
    for (const auto& e : h.node_events) micro = micro || fine(e.time_us);
    decimals = micro ? 6 : 3;
  }
  [[nodiscard]] std::string duration(std::int64_t us) const {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, static_cast<double>(us) / 1e6);
    return buf;
  }
  [[nodiscard]] std::string at(std::int64_t t) const { return duration(t - origin_us); }
  [[nodiscard]] std::string span(std::int64_t from, std::int64_t to, const char* open = "never returned") const {
    if (to == kNever) return "from " + at(from) + " s, " + open;
    return at(from) + ".." + at(to) + " s";
  }
};

std::string count(std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

// A value, with long arrays cut: [1, 2, 3, ... (+97 more)].
std::string value_text(const json& v) {
  if (!v.is_array()) return shown(v, 80);
  std::string s = "[";
  for (std::size_t i = 0; i < v.size() && i < kListMax; ++i) s += (i ? ", " : "") + value_text(v[i]);
  if (v.size() > kListMax) s += ", ... (+" + std::to_string(v.size() - kListMax) + " more)";
  return s + "]";
}

std::string key_label(const std::optional<json>& key) { return key ? "key " + key->dump() : "history"; }

std::string op_text(const Operation& op) {
  std::string s = "process " + std::to_string(op.process) + " " + fn_name(op.f);
  if (op.f != Fn::read && op.f != Fn::drain && op.f != Fn::dequeue) s += " " + value_text(op.arg);
  if (op.status == Status::ok && (op.f == Fn::read || op.f == Fn::drain || op.f == Fn::dequeue))
    s += " -> " + value_text(op.result);
  if (op.status != Status::ok) s += std::string(" (") + status_name(op.status) + ")";
  return s;
}

// "process 2 read -> 1, 1.500..1.600 s (ops.jsonl:10)"
std::string op_line(const Operation& op, const Clock& c) {
  return op_text(op) + ", " + c.span(op.call_us, op.return_us) + " (" + op.invoked_at.str() + ")";
}

// The set and queue checkers name their final read by id: "final_read": 4.
const Operation* final_read(const json& obj, const History& h) {
  const auto it = obj.is_object() ? obj.find("final_read") : obj.end();
  if (it == obj.end() || !it->is_number_unsigned() || it->get<std::size_t>() >= h.ops.size()) return nullptr;
  return &h.ops[it->get<std::size_t>()];
}

std::string fault_label(const Fault& f) {
  std::string s = "fault " + std::to_string(f.number) + " (" + (f.shape.empty() ? "?" : f.shape);
  if (!f.window_class.empty()) s += ", " + f.window_class;
  return s + ", " + std::to_string(f.requested_ms) + " ms)";
}

std::string attribution_text(const Attribution& a, std::int64_t from_us, const History& h, const Clock& c) {
  std::string s = "faults: ";
  if (a.faults.empty()) s += "none";
  for (std::size_t i = 0; i < a.faults.size(); ++i) {
    const auto& f = h.faults.at(a.faults[i].fault);
    s += (i ? ", " : "") + fault_label(f) + " ";
    if (a.faults[i].relation == Relation::active) {
      s += "active";
    } else {
      s += "healed " + c.duration(from_us - f.end_us) + " s before (at " + c.at(f.end_us) + " s)";
    }
  }
  s += "; nodedowns: ";
  if (a.nodedowns.empty()) s += "none";
  for (std::size_t i = 0; i < a.nodedowns.size(); ++i) {
    const auto& e = h.node_events.at(a.nodedowns[i]);
    s += (i ? ", " : "") + e.observer + " saw " + e.peer + " down";
    if (!e.reason.empty()) s += " (" + e.reason + ")";
    s += " at " + c.at(e.time_us) + " s";
  }
  return s;
}

// "states" of a linearizability dead end read as the model's states: null is "unset".
std::string states_text(const json& states) {
  std::string s;
  for (std::size_t i = 0; i < states.size() && i < kListMax; ++i)
    s += (i ? ", " : "") + (states[i].is_null() ? std::string("unset") : value_text(states[i]));
  if (states.size() > kListMax) s += ", ... (+" + std::to_string(states.size() - kListMax) + " more)";
  return s;
}

// `read_shown`: the key's final read, already printed with the key.
void data_text(std::ostream& os, const Anomaly& a, const History& h, const Clock& c, const Operation* read_shown) {
  if (a.data.is_null()) return;
  if (!a.data.is_object()) {
    os << "    " << value_text(a.data) << "\n";
    return;
  }
  if (a.type == "nonlinearizable" && a.data.contains("prefix_ops") && a.data.contains("states")) {
    const auto& prefix = a.data["prefix_ops"];
    os << "    longest linearizable prefix: "
       << (prefix.is_number_unsigned() ? count(prefix.get<std::size_t>(), "operation") : prefix.dump() + " operations")
       << "; states reached: " << states_text(a.data["states"]) << "\n";
    return;
  }
  for (const auto& [k, v] : a.data.items())
    if (k != "final_read" || final_read(a.data, h) == nullptr) os << "    " << k << ": " << value_text(v) << "\n";
  if (const auto* read = final_read(a.data, h); read != nullptr && read_shown == nullptr)
    os << "    final read: " << op_line(*read, c) << "\n";
}

void anomaly_text(std::ostream& os, const Anomaly& a, const Attribution& att, const History& h, const Clock& c,
                  const Operation* read_shown) {
  const Operation* op = a.ops.empty() ? nullptr : &h.ops.at(a.ops.front());
  if (a.type == "nonlinearizable" && op != nullptr) {
    os << "  first operation that cannot be linearized: " << op_line(*op, c) << "\n";
  } else {
    os << "  " << a.type << ", " << c.span(a.from_us, a.to_us);
    if (!a.detail.empty()) os << ": " << a.detail;
    os << "\n";
    if (op != nullptr) os << "    operation: " << op_line(*op, c) << "\n";
  }
  if (a.ops.size() > 1) {
    os << "    " << (a.type == "nonlinearizable" ? "concurrent with" : "with") << ": ";
    for (std::size_t i = 1; i < a.ops.size() && i <= kConcurrentMax; ++i) {
      const auto& o = h.ops.at(a.ops[i]);
      os << (i > 1 ? ", " : "") << op_text(o) << " (" << c.span(o.call_us, o.return_us) << ")";
    }
    if (a.ops.size() - 1 > kConcurrentMax) os << ", ... (+" << a.ops.size() - 1 - kConcurrentMax << " more)";
    os << "\n";
  }
  data_text(os, a, h, c, read_shown);
  os << "    " << attribution_text(att, a.from_us, h, c) << "\n";
}

// A list with its length, cut: "(3): 17, 42, 43".
std::string list_text(const std::vector<json>& items) {
  std::string s = "(" + std::to_string(items.size()) + "):";
  for (std::size_t i = 0; i < items.size() && i < kListMax; ++i) s += (i ? ", " : " ") + value_text(items[i]);
  if (items.size() > kListMax) s += ", ... (+" + std::to_string(items.size() - kListMax) + " more)";
  return s;
}

// The model's figures: scalars on one line, each list on its own.
void stats_text(std::ostream& os, const json& stats, const History& h, const Clock& c) {
  if (!stats.is_object() || stats.empty()) return;
  const auto* read = final_read(stats, h);
  std::string scalars;
  for (const auto& [k, v] : stats.items())
    if (!v.is_array() && (k != "final_read" || read == nullptr))
      scalars += (scalars.empty() ? "" : ", ") + k + " " + value_text(v);
  if (!scalars.empty()) os << "  " << scalars << "\n";
  if (read != nullptr) os << "  final read: " << op_line(*read, c) << "\n";
  for (const auto& [k, v] : stats.items())
    if (v.is_array() && !v.empty()) os << "  " << k << " " << list_text({v.begin(), v.end()}) << "\n";
}

// The elements of set and queue anomalies (lost, unexpected, duplicated, ...), per type.
void elements_text(std::ostream& os, const std::vector<Anomaly>& anomalies) {
  std::vector<std::pair<std::string, std::vector<json>>> by_type;
  for (const auto& a : anomalies) {
    if (!a.data.is_object() || !a.data.contains("element")) continue;
    auto it = std::find_if(by_type.begin(), by_type.end(), [&](const auto& t) { return t.first == a.type; });
    if (it == by_type.end()) it = by_type.insert(by_type.end(), {a.type, {}});
    it->second.push_back(a.data["element"]);
  }
  for (const auto& [type, elements] : by_type) os << "  " << type << " " << list_text(elements) << "\n";
}

// A linearizability search's figures (configurations, backtracks, bytes) tell a person
// something only when the search ran out of budget; set, queue and counter figures
// (attempts, lost, ...) are the result itself.
bool is_search(Model m) { return m == Model::register_ || m == Model::cas_register || m == Model::kv; }

void key_text(std::ostream& os, Model m, const KeyReport& k, const History& h, const Clock& c) {
  const auto& r = k.result;
  os << key_label(r.key) << ": " << verdict_name(r.verdict);
  if (!r.reason.empty()) os << " (" << r.reason << ")";
  os << ", " << count(r.op_count, "operation") << "\n";
  if (!is_search(m) || r.verdict == Verdict::unknown) stats_text(os, r.stats, h, c);
  elements_text(os, r.anomalies);
  const auto* read = final_read(r.stats, h);
  for (std::size_t i = 0; i < r.anomalies.size() && i < kAnomaliesMax; ++i)
    anomaly_text(os, r.anomalies[i], k.attributions.at(i), h, c, read);
  if (r.anomalies.size() > kAnomaliesMax)
    os << "  ... (+" << r.anomalies.size() - kAnomaliesMax << " more anomalies; --json lists them all)\n";
}

void header(std::ostream& os, const Report& r, const History& h) {
  const bool keyed = !r.keys.empty() && r.keys.front().result.key;
  os << "model " << model_name(r.model) << ", " << count(r.files.size(), "history file") << ", "
     << count(r.op_count, "operation") << ", ";
  if (keyed)
    os << count(r.keys.size(), "key") << "\n";
  else
    os << "no keys\n";
  if (r.window_ms)
    os << "detection window: " << *r.window_ms << " ms ("
       << (r.window_source == WindowSource::option ? "--window-ms" : "run_start") << ")\n";
  else if (!h.faults.empty())
    os << "detection window: unknown (no run_start, no --window-ms): anomalies name only the faults active during "
          "them\n";
}

void faults_text(std::ostream& os, const Report& r, const History& h, const Clock& c) {
  if (r.faults.empty()) return;
  os << "per fault:\n";
  for (const auto& fr : r.faults) {
    const auto& f = h.faults.at(fr.fault);
    os << "  " << fault_label(f) << " " << c.span(f.start_us, f.end_us, "no fault_end") << ": "
       << count(fr.ops, "operation") << " around it, ";
    if (fr.anomalies == 0) {
      os << "no anomaly\n";
      continue;
    }
    os << fr.anomalies << (fr.anomalies == 1 ? " anomaly" : " anomalies");
    if (!fr.keys.empty() && fr.keys.front()) {
      os << " (";
      for (std::size_t i = 0; i < fr.keys.size() && i < kListMax; ++i) os << (i ? ", " : "") << key_label(fr.keys[i]);
      if (fr.keys.size() > kListMax) os << ", ... (+" << fr.keys.size() - kListMax << " more)";
      os << ")";
    }
    os << "\n";
  }
}

}  // namespace

std::string report_text(const Report& r, const History& h) {
  std::ostringstream os;
  const Clock c(h);
  header(os, r, h);
  if (!r.reason.empty()) os << r.reason << "\n";
  const bool list_valid = r.keys.size() <= kValidKeysMax;
  std::size_t quiet = 0;
  for (const auto& k : r.keys) {
    if (k.result.verdict == Verdict::valid && k.result.anomalies.empty() && !list_valid) {
      ++quiet;
      continue;
    }
    key_text(os, r.model, k, h, c);
  }
  if (quiet > 0) os << count(quiet, quiet == r.keys.size() ? "key" : "other key") << " valid\n";
  faults_text(os, r, h, c);
  os << "verdict: " << verdict_name(r.verdict) << "\n";
  return os.str();
}

}  // namespace ticksplit::check
