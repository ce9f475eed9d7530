// The --json document; its schema is in docs/check.md. Times are unix µs (EDN: µs since the
// test began), null where an operation never returned or a fault never ended.
#include "controller/check/report.hpp"

namespace ticksplit::check {
namespace {

using nlohmann::json;

json time_json(std::int64_t t) { return t == kNever ? json(nullptr) : json(t); }

json fault_link_json(const Fault& f, Relation rel) {
  return {{"fault", f.id},
          {"number", f.number},
          {"shape", f.shape},
          {"window_class", f.window_class},
          {"start_us", f.start_us},
          {"end_us", time_json(f.end_us)},
          {"relation", relation_name(rel)}};
}

json anomaly_json(const Anomaly& a, const Attribution& att, const History& h) {
  json concurrent = json::array();
  for (std::size_t i = 1; i < a.ops.size(); ++i) concurrent.push_back(op_json(h.ops.at(a.ops[i])));
  json faults = json::array();
  for (const auto& l : att.faults) faults.push_back(fault_link_json(h.faults.at(l.fault), l.relation));
  json downs = json::array();
  for (const auto i : att.nodedowns) {
    const auto& e = h.node_events.at(i);
    downs.push_back({{"time_us", e.time_us}, {"observer", e.observer}, {"peer", e.peer}, {"reason", e.reason}});
  }
  return {{"type", a.type},
          {"detail", a.detail},
          {"from_us", a.from_us},
          {"to_us", time_json(a.to_us)},
          {"op", a.ops.empty() ? json(nullptr) : op_json(h.ops.at(a.ops.front()))},
          {"concurrent", std::move(concurrent)},
          {"data", a.data},
          {"faults", std::move(faults)},
          {"nodedowns", std::move(downs)}};
}

json key_json(const KeyReport& k, const History& h) {
  json anomalies = json::array();
  for (std::size_t i = 0; i < k.result.anomalies.size(); ++i)
    anomalies.push_back(anomaly_json(k.result.anomalies[i], k.attributions.at(i), h));
  const auto& r = k.result;
  return {{"key", r.key ? *r.key : json(nullptr)},
          {"verdict", verdict_name(r.verdict)},
          {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
          {"ops", r.op_count},
          {"stats", r.stats},
          {"anomalies", std::move(anomalies)}};
}

json fault_json(const FaultReport& fr, const History& h) {
  const auto& f = h.faults.at(fr.fault);
  json keys = json::array();
  for (const auto& k : fr.keys) keys.push_back(k ? *k : json(nullptr));
  return {{"fault", f.id},
          {"number", f.number},
          {"shape", f.shape},
          {"window_class", f.window_class},
          {"requested_ms", f.requested_ms},
          {"start_us", f.start_us},
          {"end_us", time_json(f.end_us)},
          {"ops", fr.ops},
          {"anomalies", fr.anomalies},
          {"anomaly_keys", std::move(keys)}};
}

}  // namespace

const char* window_source_name(WindowSource s) noexcept {
  switch (s) {
    case WindowSource::run_start:
      return "run_start";
    case WindowSource::option:
      return "option";
    case WindowSource::none:
      return "none";
  }
  return "?";
}

json op_json(const Operation& op) {
  json j{{"id", op.id},
         {"process", op.process},
         {"f", fn_name(op.f)},
         {"value", op.arg},
         {"result", op.result},
         {"type", status_name(op.status)},
         {"call_us", op.call_us},
         {"return_us", time_json(op.return_us)},
         {"where", op.invoked_at.str()},
         {"completed_where", op.completed_at ? json(op.completed_at->str()) : json(nullptr)}};
  if (op.key) j["key"] = *op.key;
  if (!op.node.empty()) j["node"] = op.node;
  return j;
}

json report_json(const Report& r, const History& h) {
  json keys = json::array();
  for (const auto& k : r.keys) keys.push_back(key_json(k, h));
  json faults = json::array();
  for (const auto& f : r.faults) faults.push_back(fault_json(f, h));
  return {{"verdict", verdict_name(r.verdict)},
          {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
          {"model", model_name(r.model)},
          {"files", r.files},
          {"ops", r.op_count},
          {"origin_us", h.origin_us},
          {"window_ms", r.window_ms ? json(*r.window_ms) : json(nullptr)},
          {"window_source", window_source_name(r.window_source)},
          {"keys", std::move(keys)},
          {"faults", std::move(faults)}};
}

}  // namespace ticksplit::check
