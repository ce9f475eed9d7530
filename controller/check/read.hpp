// Reading histories for `ticksplit-ctl check`: ticksplit's JSON Lines (read_jsonl.cpp,
// docs/history.md) and Jepsen's EDN (read_edn.cpp, docs/check.md) become events; several
// files merge by time (read.cpp); pairing (pair.cpp) turns each invoke and its completion into
// an Operation and refuses malformed histories. Every error names FILE:LINE.
#pragma once

#include <cstdint>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"
#include "controller/check/text.hpp"

namespace ticksplit::check {

// A history that cannot be read or is malformed: "FILE:LINE: message". `check` exits 2.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ParseError(const Where& at, const std::string& message) : std::runtime_error(at.str() + ": " + message) {}
};

// How deeply a value may nest in either format. Deeper input is refused with its line: the JSON
// library's copies and dumps recurse, so a line of 200,000 `[` would otherwise overflow the
// stack.
inline constexpr int kMaxNesting = 256;

// One client line before pairing: an invoke or a completion.
struct OpEvent {
  bool invoke = true;
  Status status = Status::ok;  // completions only
  std::int64_t process = 0;
  Fn f = Fn::read;
  nlohmann::json value;
  std::optional<nlohmann::json> key;  // the `key` field; absent if missing or null
  std::int64_t time_us = 0;
  std::string node;
  Where at;

  // Sets `invoke` and `status` from an op's type ("invoke", "ok", "fail", "info"); false for
  // anything else. Both formats name the same four.
  bool set_type(const std::string& type);
};

// What one or more files hold, before pairing.
struct Events {
  std::vector<OpEvent> ops;
  std::vector<Fault> faults;  // from fault_start lines; end_us stays kNever until matched
  std::vector<std::pair<std::string, std::int64_t>> fault_ends;  // fault id, time_us
  std::vector<NodeEvent> node_events;
  std::vector<Note> notes;
  std::optional<std::int64_t> window_max_ms;  // the largest run_start window_ms[1]
  std::optional<std::int64_t> first_us;       // the earliest time_us of any line
  std::vector<std::string> files;
};

// One file of either format; `file` names it in errors.
Events read_jsonl(std::istream& in, const std::string& file);
Events read_edn(std::string_view text, const std::string& file);

// Whether a file is EDN: its name ends with .edn; else (not .jsonl/.json) its first non-blank
// character is `[`, `(`, `#` or `;`, or it is `{` on a first line that is not a JSON object.
bool is_edn(const std::string& path, std::string_view text);
Events read_file(const std::string& path);

// Files in command-line order into one time-ordered stream: a stable sort by time_us, so ties
// keep file order, then line order. Fault ends are matched to their starts by id.
Events merge(std::vector<Events> files);

struct PairOptions {
  Model model = Model::register_;
  bool independent = false;  // values are Jepsen's [key value] tuples (implied for kv without keys)
};

// Invokes and completions → Operations (Jepsen's process rules; see pair.cpp), with the
// context copied into the History.
History pair(Events events, const PairOptions& options);

// read_file for each path, merge, pair.
History read_history(const std::vector<std::string>& paths, const PairOptions& options);

}  // namespace ticksplit::check
