// What `ticksplit-ctl check` reports: the verdict per key and overall, each anomaly with the
// faults and nodedowns around it, and per fault how many operations and anomalies lay around
// it. check.cpp builds it; report_text.cpp renders it for people, report_json.cpp as the JSON
// document of docs/check.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controller/check/attribute.hpp"
#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"
#include "controller/check/result.hpp"

namespace ticksplit::check {

struct KeyReport {
  KeyResult result;
  std::vector<Attribution> attributions;  // one per result.anomalies
};

struct FaultReport {
  std::size_t fault = 0;                            // index in History::faults
  std::size_t ops = 0;                              // operations overlapping [start, end + window]
  std::size_t anomalies = 0;                        // anomalies attributed to it
  std::vector<std::optional<nlohmann::json>> keys;  // the keys of those anomalies, each once
};

// Where the detection window used for attribution came from.
enum class WindowSource { run_start, option, none };

struct Report {
  Model model = Model::register_;
  Verdict verdict = Verdict::valid;
  std::vector<std::string> files;
  std::size_t op_count = 0;
  std::vector<KeyReport> keys;      // in order of each key's first operation
  std::vector<FaultReport> faults;  // one per History::faults
  std::optional<std::int64_t> window_ms;
  WindowSource window_source = WindowSource::none;
  std::string reason;  // why the verdict is unknown when no key says (a history without operations)
};

// The report for people; its last line is always "verdict: valid|invalid|unknown".
std::string report_text(const Report& r, const History& h);
// The --json document (docs/check.md).
nlohmann::json report_json(const Report& r, const History& h);

// Shared by both renderings.
const char* window_source_name(WindowSource s) noexcept;
nlohmann::json op_json(const Operation& op);

}  // namespace ticksplit::check
