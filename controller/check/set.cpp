// Jepsen's set checker (jepsen.checker/set): clients add elements, and the last successful read
// must hold every acknowledged add and nothing that was never attempted. Elements are JSON values
// compared by value (their canonical text).
//   attempts:   elements of all invoked adds, whatever their completion
//   lost:       elements of ok adds missing from the last ok read        → invalid
//   unexpected: elements of the last ok read that were never attempted   → invalid
//   recovered:  elements of the last ok read whose adds were fail or info (reported, not invalid)
// "Last" is by completion time, as in a Jepsen history ordered by completions.
#include <algorithm>
#include <map>
#include <set>

#include "controller/check/checker.hpp"
#include "controller/check/models.hpp"

namespace ticksplit::check {
namespace {

struct Element {
  nlohmann::json value;
  std::vector<const Operation*> ok_adds;
  bool read = false;
};

const Operation* last_ok_read(std::span<const Operation> ops) {
  const Operation* last = nullptr;
  for (const Operation& op : ops) {
    if (op.f != Fn::read || op.status != Status::ok) continue;
    if (!last || op.return_us > last->return_us || (op.return_us == last->return_us && op.id > last->id)) last = &op;
  }
  return last;
}

Anomaly lost(const Element& el, const Operation& read) {
  Anomaly a;
  a.type = "lost";
  for (const Operation* add : el.ok_adds) a.ops.push_back(add->id);
  a.from_us = el.ok_adds.front()->call_us;
  a.to_us = el.ok_adds.front()->return_us;
  a.detail = describe_op(*el.ok_adds.front()) + " succeeded but the final read (by process " +
             std::to_string(read.process) + ") lacks it";
  a.data = {{"element", el.value}, {"final_read", read.id}};
  return a;
}

Anomaly unexpected(const nlohmann::json& v, const Operation& read) {
  Anomaly a;
  a.type = "unexpected";
  a.ops = {read.id};
  a.from_us = read.call_us;
  a.to_us = read.return_us;
  a.detail = "the final read by process " + std::to_string(read.process) + " returned " + format_value(v) +
             ", which no add attempted";
  a.data = {{"element", v}};
  return a;
}

}  // namespace

KeyResult check_set(std::span<const Operation> ops) {
  KeyResult r;
  if (!ops.empty()) r.key = ops.front().key;
  r.op_count = ops.size();
  std::map<std::string, Element> attempted;
  std::size_t acknowledged = 0;
  for (const Operation& op : ops) {
    if (op.f != Fn::add) continue;
    Element& el = attempted[canonical(op.arg)];
    el.value = op.arg;
    if (op.status == Status::ok) el.ok_adds.push_back(&op), ++acknowledged;
  }
  const Operation* read = last_ok_read(ops);
  r.stats = {{"attempts", attempted.size()}, {"acknowledged", acknowledged}};
  if (!read) {
    r.verdict = Verdict::unknown;
    r.reason = "no ok read";
    return r;
  }
  if (!read->result.is_array()) {
    r.verdict = Verdict::invalid;
    r.anomalies.push_back(malformed(*read, "a set read must return an array"));
    return r;
  }
  std::size_t ok = 0;
  std::set<std::string> strangers;  // unexpected elements, each reported once
  nlohmann::json recovered = nlohmann::json::array();
  for (const auto& v : read->result) {
    std::string text = canonical(v);
    const auto it = attempted.find(text);
    if (it == attempted.end()) {
      if (strangers.insert(std::move(text)).second) r.anomalies.push_back(unexpected(v, *read));
      continue;
    }
    if (it->second.read) continue;  // read twice: one element
    it->second.read = true;
    ++ok;
    if (it->second.ok_adds.empty()) recovered.push_back(v);
  }
  std::vector<Anomaly> losses;
  for (const auto& [text, el] : attempted)
    if (!el.ok_adds.empty() && !el.read) losses.push_back(lost(el, *read));
  std::sort(losses.begin(), losses.end(), [](const Anomaly& x, const Anomaly& y) { return x.ops[0] < y.ops[0]; });
  r.verdict = losses.empty() && strangers.empty() ? Verdict::valid : Verdict::invalid;
  r.stats.update({{"ok", ok},
                  {"lost", losses.size()},
                  {"unexpected", strangers.size()},
                  {"recovered", recovered.size()},
                  {"recovered_elements", recovered},
                  {"final_read", read->id}});
  r.anomalies.insert(r.anomalies.begin(), losses.begin(), losses.end());
  return r;
}

}  // namespace ticksplit::check
