// Jepsen's total-queue checker (jepsen.checker/total-queue), on multisets of elements compared by
// value (canonical text). Drains count as the dequeues of their elements, as Jepsen's
// expand-queue-drain-ops makes them; an empty dequeue completes as fail.
//   attempts:   elements of all invoked enqueues, whatever their completion
//   lost:       ok enqueues beyond the ok dequeues of the element          → invalid
//   unexpected: dequeued elements that no enqueue attempted                 → invalid
//   duplicated: elements dequeued more times than enqueues attempted them   (reported, not invalid)
//   recovered:  dequeued elements whose enqueues were not all ok            (reported, not invalid)
// An info dequeue tells nothing (as in Jepsen, an element it took counts as lost). An info drain
// is worse: the queue's remaining contents are unknown, so missing elements are not proof of
// loss and the verdict is unknown (Jepsen refuses such histories), unless something unexpected
// came out, which is proof of an invalid history either way.
#include <algorithm>
#include <map>

#include "controller/check/checker.hpp"
#include "controller/check/models.hpp"

namespace ticksplit::check {
namespace {

struct Tally {
  nlohmann::json value;
  std::size_t attempts = 0, enqueued = 0, dequeued = 0;
  std::vector<const Operation*> enqueues;  // the ok ones
  std::vector<const Operation*> dequeues;  // ok dequeues and drains that returned it
};

Anomaly about(const char* type, const Tally& t, const std::vector<const Operation*>& ops, std::string detail) {
  Anomaly a;
  a.type = type;
  for (const Operation* op : ops) {
    a.ops.push_back(op->id);
    a.to_us = std::max(a.to_us, op->return_us);
  }
  a.from_us = ops.front()->call_us;
  a.detail = std::move(detail);
  a.data = {{"element", t.value}};
  return a;
}

}  // namespace

KeyResult check_queue(std::span<const Operation> ops) {
  KeyResult r;
  if (!ops.empty()) r.key = ops.front().key;
  r.op_count = ops.size();
  std::map<std::string, Tally> tallies;
  auto tally = [&](const nlohmann::json& v) -> Tally& {
    Tally& t = tallies[canonical(v)];
    t.value = v;
    return t;
  };
  const Operation* info_drain = nullptr;
  for (const Operation& op : ops) {
    if (op.f == Fn::enqueue) {
      Tally& t = tally(op.arg);
      ++t.attempts;
      if (op.status == Status::ok) ++t.enqueued, t.enqueues.push_back(&op);
    } else if (op.f == Fn::dequeue && op.status == Status::ok) {
      Tally& t = tally(op.result);
      ++t.dequeued;
      t.dequeues.push_back(&op);
    } else if (op.f == Fn::drain && op.status == Status::info && !info_drain) {
      info_drain = &op;
    } else if (op.f == Fn::drain && op.status == Status::ok) {
      if (!op.result.is_array()) {
        r.anomalies.push_back(malformed(op, "a drain must return an array"));
        continue;
      }
      for (const auto& v : op.result) {
        Tally& t = tally(v);
        ++t.dequeued;
        if (t.dequeues.empty() || t.dequeues.back() != &op) t.dequeues.push_back(&op);
      }
    }
  }

  std::size_t attempts = 0, enqueued = 0, dequeued = 0, ok = 0, lost = 0, unexpected = 0, duplicated = 0, recovered = 0;
  std::vector<Anomaly> losses;
  for (const auto& [text, t] : tallies) {
    attempts += t.attempts;
    enqueued += t.enqueued;
    dequeued += t.dequeued;
    ok += std::min(t.dequeued, t.attempts);
    if (t.attempts == 0 && t.dequeued > 0) {
      unexpected += t.dequeued;
      r.anomalies.push_back(about(
          "unexpected", t, t.dequeues,
          describe_op(*t.dequeues.front()) + " returned " + format_value(t.value) + ", which no enqueue attempted"));
    }
    if (t.attempts > 0 && t.dequeued > t.attempts) {
      duplicated += t.dequeued - t.attempts;
      r.anomalies.push_back(about("duplicated", t, t.dequeues,
                                  format_value(t.value) + " was dequeued " + std::to_string(t.dequeued) +
                                      " times but enqueued " + std::to_string(t.attempts)));
    }
    if (t.enqueued > t.dequeued) {
      lost += t.enqueued - t.dequeued;
      losses.push_back(about("lost", t, t.enqueues,
                             t.dequeued == 0 ? describe_op(*t.enqueues.front()) + " succeeded but was never dequeued"
                                             : format_value(t.value) + " was enqueued " + std::to_string(t.enqueued) +
                                                   " times (ok) but dequeued " + std::to_string(t.dequeued)));
    }
    if (std::min(t.dequeued, t.attempts) > t.enqueued) recovered += std::min(t.dequeued, t.attempts) - t.enqueued;
  }
  r.stats = {{"attempts", attempts}, {"enqueued", enqueued},     {"dequeued", dequeued},     {"ok", ok},
             {"lost", lost},         {"unexpected", unexpected}, {"duplicated", duplicated}, {"recovered", recovered}};

  const bool malformed_seen =
      std::any_of(r.anomalies.begin(), r.anomalies.end(), [](const Anomaly& a) { return a.type == "malformed"; });
  if (unexpected > 0 || malformed_seen) r.verdict = Verdict::invalid;
  if (info_drain) {
    r.stats["unconfirmed_lost"] = lost;
    r.stats["lost"] = 0;
    if (r.verdict == Verdict::invalid) return r;
    r.verdict = Verdict::unknown;
    r.reason = describe_op(*info_drain) + " is indeterminate: the queue's remaining contents are unknown";
    if (lost > 0) r.reason += " (" + std::to_string(lost) + " enqueued elements never came out)";
  } else if (lost > 0) {
    r.verdict = Verdict::invalid;
    std::sort(losses.begin(), losses.end(), [](const Anomaly& x, const Anomaly& y) { return x.ops[0] < y.ops[0]; });
    r.anomalies.insert(r.anomalies.begin(), losses.begin(), losses.end());
  }
  return r;
}

}  // namespace ticksplit::check
