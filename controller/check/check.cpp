#include "controller/check/check.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>

#include "controller/check/read.hpp"

namespace ticksplit::check {

std::vector<std::vector<Operation>> split_by_key(const History& h) {
  std::vector<std::vector<Operation>> groups;
  std::unordered_map<std::string, std::size_t> index;  // canonical JSON of the key → group
  for (const auto& op : h.ops) {
    const auto [it, fresh] = index.try_emplace(op.key ? op.key->dump() : std::string(), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(op);
  }
  return groups;
}

Report check(const History& h, const CheckOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<KeyResult> results;
  for (const auto& ops : split_by_key(h)) {
    const auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    Budget b = options.budget;
    b.max_ms = std::max<std::int64_t>(1, options.budget.max_ms - spent);
    auto r = check_one(options.model, ops, b);
    r.key = ops.front().key;
    results.push_back(std::move(r));
  }
  return make_report(h, options, std::move(results));
}

Report make_report(const History& h, const CheckOptions& options, std::vector<KeyResult> results) {
  Report r;
  r.model = options.model;
  r.files = h.files;
  r.op_count = h.ops.size();
  r.window_ms = options.window_ms ? options.window_ms : h.window_max_ms;
  r.window_source = options.window_ms ? WindowSource::option
                    : h.window_max_ms ? WindowSource::run_start
                                      : WindowSource::none;
  for (std::size_t i = 0; i < h.faults.size(); ++i) {
    FaultReport f;
    f.fault = i;
    f.ops = ops_around(h.faults[i], h, r.window_ms);
    r.faults.push_back(std::move(f));
  }
  if (results.empty()) {
    r.verdict = Verdict::unknown;
    r.reason = "the history has no operations";
  }
  for (auto& result : results) {
    KeyReport k;
    for (const auto& a : result.anomalies) {
      auto att = attribute(a.from_us, a.to_us, h, r.window_ms);
      for (const auto& link : att.faults) {
        auto& f = r.faults[link.fault];
        ++f.anomalies;
        if (std::find(f.keys.begin(), f.keys.end(), result.key) == f.keys.end()) f.keys.push_back(result.key);
      }
      k.attributions.push_back(std::move(att));
    }
    r.verdict = combine(r.verdict, result.verdict);
    k.result = std::move(result);
    r.keys.push_back(std::move(k));
  }
  return r;
}

}  // namespace ticksplit::check
