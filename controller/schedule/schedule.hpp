// Schedules as users write them (YAML, see README.md "Schedules"), checked completely before
// anything is touched: every mistake is a ScheduleError naming the file and line.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "common/duration.hpp"
#include "common/proto/fault.hpp"
#include "common/error.hpp"
#include "common/tick_window.hpp"

namespace ticksplit::ctl {

struct Where {
  std::string file;
  int line = 0;  // 1-based
};

class ScheduleError : public std::runtime_error {
 public:
  ScheduleError(const Where& w, const std::string& message)
      : std::runtime_error(w.file + ":" + std::to_string(w.line) + ": " + message) {}
};

// How long a fault lasts (or a wait): a duration in the common grammar (common/duration.hpp;
// T allowed, resolved once the agents tell T), or a window class or a call-timeout class
// (common/tick_window.hpp) drawn from the seed.
struct DurationSpec {
  std::variant<Duration, WindowClass, CallClass> value;
  std::string text;  // as written
};

struct Step {
  enum class Kind { isolate, partition, one_way, pause, wait, repeat, kill_node, kill_process, stress };
  Kind kind = Kind::wait;
  Where where;
  std::string node;   // isolate, pause, kill_node, kill_process, stress: a node, or random_node
  std::string shape;  // partition: groups, random_halves, majorities_ring, bridge, random_node
  std::vector<std::vector<std::string>> groups;  // partition: groups
  std::string from, to;                          // one_way
  DurationSpec duration;                         // `for` of a fault, a wait, kill_process's `restart_within`
  proto::Loss loss;                              // `loss` of a fault (common/loss.hpp); total if absent
  std::int64_t call_timeout_ms = default_call_timeout_ms;  // sizes a call class: the step's, else the schedule's
  int times = 0;                                 // repeat
  std::int64_t hogs = 2;                         // stress: max-priority hogs per online scheduler (1..16)
  std::vector<Step> steps;                       // repeat
  // kill_node: how long after the kill its agent starts the node again (`restart_after`);
  // absent: the host's supervisor does. The node is in `node` (or random_node).
  std::optional<DurationSpec> restart_after;
  proto::ProcessTarget target;                   // kill_process: `name` or `supervisor`
};

struct Schedule {
  std::string file;
  std::vector<std::string> agents;
  std::optional<std::string> cookie_file;
  std::optional<std::uint64_t> seed;
  // Optional: the app nodes and T, so that `plan` needs no agent.
  std::vector<std::string> nodes;
  std::optional<std::int64_t> net_ticktime_ms;
  std::optional<std::int64_t> tick_intensity;
  std::int64_t call_timeout_ms = default_call_timeout_ms;  // `call_timeout`: the default of every step
  std::vector<Step> steps;
};

// Throws ScheduleError.
Schedule parse_schedule(const std::string& text, const std::string& file);
Schedule load_schedule(const std::string& path);

// "1500ms", "2.9s", "1.3T", "below_window" | "in_window" | "above_window",
// "below_call_timeout" | "around_call_timeout" | "above_call_timeout"; the error says what was
// expected.
Result<DurationSpec> parse_duration_spec(const std::string& text);

}  // namespace ticksplit::ctl
