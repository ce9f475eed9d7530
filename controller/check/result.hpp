// What a checker says about one independent history (one key, or the whole history when it
// has no keys), before reporting (report.hpp) adds the faults and nodedowns around anomalies.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controller/check/operation.hpp"

namespace ticksplit::check {

enum class Verdict { valid, invalid, unknown };
const char* verdict_name(Verdict v) noexcept;
// The verdict of a whole run: invalid if any is, else unknown if any is, else valid.
Verdict combine(Verdict a, Verdict b) noexcept;

// One thing wrong with a history. `ops` index History::ops (via Operation::id); the first is
// the operation the anomaly is about (for linearizability: the first operation that cannot be
// linearized), the rest the operations concurrent with it. The time span is what attribution
// compares with faults.
struct Anomaly {
  std::string type;             // "nonlinearizable", "lost", "unexpected", "duplicated",
                                // "read_out_of_range", ...
  std::vector<std::size_t> ops;
  std::int64_t from_us = 0, to_us = 0;  // the span the anomaly concerns
  std::string detail;           // one line for people
  nlohmann::json data;          // model-specific detail for --json (e.g. states reached, value)
};

struct KeyResult {
  std::optional<nlohmann::json> key;  // absent when the history has no keys
  Verdict verdict = Verdict::valid;
  std::string reason;           // why unknown (budget, no ok read, an info drain, ...)
  std::size_t op_count = 0;     // operations this check looked at
  std::vector<Anomaly> anomalies;  // invalid ⇒ at least one; duplicated may come with valid
  nlohmann::json stats;         // model-specific figures (set: attempts/ok/lost/... counts;
                                // linearizability: configurations explored, cache entries)
};

// Limits of a linearizability search; exceeding one gives `unknown` with the reason.
struct Budget {
  std::int64_t max_ms = 60'000;
  std::int64_t max_mb = 1024;
};

}  // namespace ticksplit::check
