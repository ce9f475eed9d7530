// A History and a model → a Report: the history split into independent histories per key
// (Jepsen's independent checker: keys never interact, so each is checked alone, which also
// keeps each search small), check_one on each, the verdicts combined, and each anomaly
// attributed to the faults and nodedowns around it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"
#include "controller/check/report.hpp"
#include "controller/check/result.hpp"

namespace ticksplit::check {

struct CheckOptions {
  Model model = Model::register_;
  Budget budget;                          // max_ms bounds the whole check: each key gets what the keys before it left
  std::optional<std::int64_t> window_ms;  // --window-ms: overrides run_start's window
};

// The operations of each key, in order of each key's first call; one group if none has a key.
// Operation ids (indices in History::ops) are kept.
std::vector<std::vector<Operation>> split_by_key(const History& h);

Report check(const History& h, const CheckOptions& options);

// The report around results already computed, one per split_by_key group (check() calls it;
// tests use it to render results built by hand).
Report make_report(const History& h, const CheckOptions& options, std::vector<KeyResult> results);

}  // namespace ticksplit::check
