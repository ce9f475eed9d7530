// Stresses on the agent's side (docs/faults.md, "Stress"): the request checked and turned into
// a command for the node's watcher, and each stress remembered until the node's report turns
// it into stress_started / stress_ended events. The hogs, their deadline and the measurements
// are the node's (erlang/src/ticksplit_watcher.erl, the stress section): the hogs end by
// themselves at the deadline, with or without the agent. What the agent adds is the rule that
// no stress goes unreported: a node lost before its report, or a report that never comes (the
// window + the node's after-period + report_grace), ends it with a stress_ended whose `error`
// says so.
//
// It lives on the loop (the node's report arrives there) and knows neither sockets nor the log:
// the agent sends the commands and records the events.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "agent/watcher_command.hpp"
#include "common/clock.hpp"
#include "common/ei/term.hpp"
#include "common/proto/fault.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::agent {

using watcher::StressCommand;

class Stresses {
 public:
  static constexpr std::size_t max_pending = 64;
  // After the deadline the node measures this long before it reports (?AFTER_MS in the
  // watcher), and its report may take report_grace more (a node just starved) before the
  // agent reports it missing.
  static constexpr std::chrono::milliseconds after_period{500};
  static constexpr std::chrono::seconds report_grace{5};
  static constexpr std::size_t remembered_ids = 1024;
  // The name the node's stress runs under: where an early stop goes (the watcher itself runs
  // at normal priority, which the hogs starve).
  static constexpr const char* node_name = "ticksplit_stress";

  explicit Stresses(std::string id_suffix = now_hex()) : id_suffix_(std::move(id_suffix)) {}
  static std::string now_hex();

  // The command for the node's watcher, or why not: timing as a partition's, duplicate_id,
  // already_stressed (one stress per node at a time). `owner`: the node that asked.
  std::variant<StressCommand, proto::Refusal> plan(const proto::StressRequest& r, const std::string& owner,
                                                   std::int64_t now_us, clock::Monotonic::time_point now,
                                                   std::int64_t max_fault_ms);
  // The command could not be sent: forgotten, as if never planned.
  void cancel(const std::string& id);

  // A report from `node` (kind stress_started or stress_ended, with the node's props): the
  // event, or nothing if `id` is no stress this agent sent to that node (late, forged) or the
  // kind is not a stress's. A malformed stress_ended still ends the stress, with an error.
  std::optional<proto::FaultEvent> reported(const std::string& node, const std::string& kind, const std::string& id,
                                            const std::vector<std::pair<std::string, ei::Term>>& props);
  // The watcher rejected command `id` (unknown, malformed, or refused by the node: bad hogs, a
  // window already over): the stress_ended with `error`; nothing if not ours.
  std::optional<proto::StressEnded> failed(const std::string& node, const std::string& id, const std::string& error);
  // Stops a stress early (heal): the node and the command to send its `node_name`
  // (watcher::stress_stop_command); its stress_ended comes from the node, with `why` as its
  // reason. Nothing if not ours.
  std::optional<std::pair<std::string, ei::Term>> stop(const std::string& id, proto::HealReason why);
  // Every stress that `owner` asked for (all if nullopt): their ids.
  [[nodiscard]] std::vector<std::string> ids_of(const std::optional<std::string>& owner) const;
  // `node`'s connection is gone: its stresses end with an error (the hogs still end at their
  // deadline on the node, but its report cannot reach the agent).
  std::vector<proto::StressEnded> node_lost(const std::string& node, const std::string& why);
  // Stresses whose report is overdue.
  std::vector<proto::StressEnded> expire(clock::Monotonic::time_point now);
  [[nodiscard]] std::optional<clock::Monotonic::time_point> next_deadline() const;
  [[nodiscard]] std::size_t size() const { return pending_.size(); }
  [[nodiscard]] bool has(const std::string& id) const { return pending_.count(id) != 0; }
  [[nodiscard]] bool ended(const std::string& id) const { return over_.count(id) != 0; }
  [[nodiscard]] std::vector<proto::StressStatus> status(std::int64_t now_us) const;

 private:
  struct Pending {
    std::string node, owner;
    std::int64_t start_us = 0, end_us = 0, hogs = 0;
    bool started = false;
    std::optional<proto::HealReason> asked;  // stopped early, why
    clock::Monotonic::time_point deadline;
  };
  proto::StressEnded ended_event(const std::string& id, const Pending& p, std::string error) const;
  void remember(const std::string& id);
  [[nodiscard]] bool taken(const std::string& id) const { return pending_.count(id) != 0 || over_.count(id) != 0; }

  std::string id_suffix_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, Pending> pending_;
  std::set<std::string> over_;
  std::deque<std::string> over_order_;
};

}  // namespace ticksplit::agent
