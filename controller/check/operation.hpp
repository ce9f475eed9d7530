// What the checker reads: client operations (an invoke paired with its completion), and the
// context the run recorded next to them (faults, nodedowns, notes) for attributing anomalies.
// Readers (read_jsonl.cpp, read_edn.cpp) build these; models and checkers consume them.
// The JSON Lines format is documented in docs/history.md; Jepsen's EDN in docs/check.md.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ticksplit::check {

// Where a line came from, for error messages and reports: "ops.jsonl:12".
struct Where {
  std::string file;
  std::size_t line = 0;
  [[nodiscard]] std::string str() const { return file + ":" + std::to_string(line); }
};

enum class Status { ok, fail, info };  // how an operation completed
const char* status_name(Status s) noexcept;

// The operations a history may hold (the issue's `f`).
enum class Fn { read, write, cas, append, add, enqueue, dequeue, drain };
const char* fn_name(Fn f) noexcept;
std::optional<Fn> fn_from(const std::string& name) noexcept;

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();  // an info's return

// The widest detection window a history or --window-ms may give: a day (net_ticktime is
// seconds to minutes). Bounded so that window arithmetic on times cannot overflow.
inline constexpr std::int64_t kMaxWindowMs = 86'400'000;

// One operation: an invoke and its completion. Times are unix µs (EDN histories: ns since the
// test began / 1000). Arguments come from the invoke; a read's, dequeue's or drain's result
// from its completion (`result`). For info operations `return_us` is kNever: an indeterminate
// operation may take effect at any point after its invoke, and never returns.
struct Operation {
  std::size_t id = 0;           // index in History::ops, in invoke order
  std::int64_t process = 0;
  Fn f = Fn::read;
  nlohmann::json arg;           // the invoke's value (null for read and drain)
  nlohmann::json result;        // the completion's value (ok reads, dequeues, drains); else null
  Status status = Status::ok;
  std::int64_t call_us = 0;
  std::int64_t return_us = 0;   // kNever for info
  std::optional<nlohmann::json> key;  // the `key` field, or the key of Jepsen's [key value] tuple
  std::string node;             // the node the client used, if recorded
  Where invoked_at;
  std::optional<Where> completed_at;  // absent for an invoke that never completed (counted as info)
};

// A fault as recorded by ticksplit-ctl's history (fault_start/fault_end) or by the Erlang
// workload's nemesis, which writes the same lines.
struct Fault {
  std::string id;
  std::int64_t number = 0;
  std::string shape;            // "isolate", "groups", "random_halves", ...
  std::string window_class;     // "below_window", "in_window", "above_window", or ""
  std::int64_t requested_ms = 0;
  std::int64_t start_us = 0;
  std::int64_t end_us = kNever; // kNever if the history has no fault_end for it
  nlohmann::json drop_sets;     // node -> nodes it drops, as recorded
};

struct NodeEvent {              // nodeup / nodedown lines
  std::int64_t time_us = 0;
  bool down = true;
  std::string observer, peer, reason, node_type;
};

struct Note {
  std::int64_t time_us = 0;
  std::string text;
  Where at;
};

// Everything read from one or more history files, merged by time.
struct History {
  std::vector<Operation> ops;   // sorted by call_us (ties: file order)
  std::vector<Fault> faults;    // sorted by start_us
  std::vector<NodeEvent> node_events;  // sorted by time
  std::vector<Note> notes;
  std::optional<std::int64_t> window_max_ms;  // the detection window's upper bound, from run_start
  std::vector<std::string> files;
  std::int64_t origin_us = 0;   // the earliest time_us of any line; reports count from it
};

}  // namespace ticksplit::check
