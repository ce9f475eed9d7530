// The watcher → agent half of the command channel: a fault report,
//   {ticksplit_watcher, ObserverNode, fault, Kind, Id, Props}
// sent to the agent's registered name once a command's work is done (watcher_command.hpp).
// Any node of the cluster can send the agent such a message, so it is read as hostile input:
// every size bounded, every field's type checked, an unknown prop of a known kind ignored (a
// newer watcher may add some), an unknown kind left to the caller to refuse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::agent::watcher {

inline constexpr std::size_t max_report_props = 32;
inline constexpr std::size_t max_report_id = 128;      // as a request's id
inline constexpr std::size_t max_report_text = 1024;   // an `error`
inline constexpr std::size_t max_report_short = 256;   // a pid, a child id

struct FaultReport {
  std::string observer;  // the node the watcher runs on
  std::string kind;      // process_killed, rejected, ...
  std::string id;        // the command's fault id
  std::vector<std::pair<std::string, ei::Term>> props;  // distinct atom keys, at most max_report_props

  [[nodiscard]] const ei::Term* prop(std::string_view key) const noexcept;
};

// A 6-tuple tagged ticksplit_watcher with `fault` third: a report (maybe malformed).
bool is_fault_report(const ei::Term& msg) noexcept;
// Its envelope checked (observer an atom, kind an atom of at most 64 bytes, id a binary of
// 1..max_report_id bytes, props a proper list of at most max_report_props {atom, term} pairs
// with distinct keys).
Result<FaultReport> fault_report_from(const ei::Term& msg);

// What the watcher saw of a kill_process, from a `process_killed` report's props: child_id,
// pid, killed_us, restarted, new_pid, restarted_us, error (texts made printable ASCII and
// cut). The fields the agent knows itself (node, owner, target, the plan) are not read from it.
struct KillSeen {
  std::string child_id;
  std::optional<std::string> pid;
  std::optional<std::int64_t> killed_us;
  bool restarted = false;
  std::optional<std::string> new_pid;
  std::optional<std::int64_t> restarted_us;
  std::string error;
};
Result<KillSeen> kill_seen_from(const FaultReport& r);

// A `rejected` report's error text (the watcher did not know or could not read the command).
std::string rejected_error(const FaultReport& r);

}  // namespace ticksplit::agent::watcher
