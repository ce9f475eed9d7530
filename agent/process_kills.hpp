// kill_process faults on the agent's side (docs/faults.md): the request checked and turned into
// a command for the node's watcher (agent/watcher_command.hpp), and each command remembered
// until its report (agent/watcher_report.hpp) turns it into a process_killed event. The kill
// and the restart watch happen on the node; what the agent adds is the rule that no kill goes
// unreported: a node lost before its report, a watcher that rejects the command, or a report
// that never comes (the window + report_grace past the instant) each end it with a
// process_killed whose `error` says so.
//
// It lives on the loop (the watcher's report arrives there) and knows neither sockets nor
// terms: the Agent sends the command and records the events.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "agent/watcher_command.hpp"
#include "agent/watcher_report.hpp"
#include "common/clock.hpp"
#include "common/proto/fault.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::agent {

class ProcessKills {
 public:
  static constexpr std::size_t max_pending = 256;
  // How long after the restart window the watcher's report may take (a loaded node, a busy
  // supervisor's which_children with its 1 s timeout) before the agent reports it missing.
  static constexpr std::chrono::seconds report_grace{5};
  static constexpr std::size_t remembered_ids = 1024;  // ids of kills over, for duplicate_id

  // `id_suffix` ends every generated id ("k1-<suffix>"); by default this instant's unix µs in
  // hex, as the engine's ids, so that a restarted agent does not give an id twice.
  explicit ProcessKills(std::string id_suffix = now_hex()) : id_suffix_(std::move(id_suffix)) {}
  static std::string now_hex();

  // The command for the node's watcher, or why not: timing as a partition's (the kill's span
  // is its instant + the restart window; it may start at most max_fault_ms ahead), duplicate_id,
  // too_many_kills. `owner`: the node that asked.
  std::variant<watcher::KillProcessCommand, proto::Refusal> plan(const proto::KillProcessRequest& r,
                                                                 const std::string& owner, std::int64_t now_us,
                                                                 clock::Monotonic::time_point now,
                                                                 std::int64_t max_fault_ms);
  // The command could not be sent: forgotten, as if never planned.
  void cancel(const std::string& id);

  // A process_killed report from `node`'s watcher: the event, or nothing if `id` is not a kill
  // this agent sent to that node (late, or forged).
  std::optional<proto::ProcessKilled> reported(const std::string& node, const std::string& id,
                                               const watcher::KillSeen& seen);
  // The watcher rejected command `id`, or its report was malformed: the event with `error`.
  std::optional<proto::ProcessKilled> failed(const std::string& node, const std::string& id, const std::string& error);
  // `node`'s connection is gone: every kill sent to it ends with an error (its watcher died
  // with the connection, and a kill still waiting for its instant with it).
  std::vector<proto::ProcessKilled> node_lost(const std::string& node, const std::string& why);
  // Kills whose report is overdue.
  std::vector<proto::ProcessKilled> expire(clock::Monotonic::time_point now);
  [[nodiscard]] std::optional<clock::Monotonic::time_point> next_deadline() const;
  [[nodiscard]] std::size_t size() const { return pending_.size(); }
  [[nodiscard]] bool has(const std::string& id) const { return pending_.count(id) != 0; }

 private:
  struct Pending {
    std::string node, owner;
    proto::ProcessTarget target;
    std::int64_t planned_us = 0;
    std::int64_t restart_window_ms = 0;
    clock::Monotonic::time_point deadline;
  };
  proto::ProcessKilled event(const std::string& id, const Pending& p) const;
  void remember(const std::string& id);
  [[nodiscard]] bool taken(const std::string& id) const { return pending_.count(id) != 0 || over_.count(id) != 0; }

  std::string id_suffix_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, Pending> pending_;
  std::set<std::string> over_;
  std::deque<std::string> over_order_;
};

}  // namespace ticksplit::agent
