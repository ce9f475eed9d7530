#include "agent/process_kills.hpp"

#include <cstdio>

namespace ticksplit::agent {

using K = proto::Refusal::Kind;

std::string ProcessKills::now_hex() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(clock::unix_us()));
  return buf;
}

std::variant<watcher::KillProcessCommand, proto::Refusal> ProcessKills::plan(const proto::KillProcessRequest& r,
                                                                             const std::string& owner,
                                                                             std::int64_t now_us,
                                                                             clock::Monotonic::time_point now,
                                                                             std::int64_t max_fault_ms) {
  const std::int64_t start = r.start_at_us.value_or(now_us);
  const std::int64_t window_us = r.restart_window_ms * 1000;
  // start_at_us is at most 2^63 - 1 from the parser: compare without overflowing.
  if (start <= now_us - window_us) return proto::Refusal{K::already_over, {}, {}, start, 0};
  if (start - now_us > max_fault_ms * 1000) return proto::Refusal{K::starts_later_than_max_fault, {}, {}, start, 0};
  if (r.id && taken(*r.id)) return proto::Refusal{K::duplicate_id, *r.id, {}, 0, 0};
  if (pending_.size() >= max_pending)
    return proto::Refusal{K::too_many_kills, {}, {}, static_cast<std::int64_t>(max_pending), 0};
  std::string id;
  if (r.id) {
    id = *r.id;
  } else {
    do id = "k" + std::to_string(next_id_++) + "-" + id_suffix_;
    while (taken(id));
  }
  const auto until_report = std::chrono::microseconds(std::max<std::int64_t>(0, start - now_us) + window_us);
  pending_[id] = Pending{r.node, owner, r.target, start, r.restart_window_ms, now + until_report + report_grace};
  return watcher::KillProcessCommand{id, r.target, start, r.restart_window_ms};
}

void ProcessKills::cancel(const std::string& id) { pending_.erase(id); }

proto::ProcessKilled ProcessKills::event(const std::string& id, const Pending& p) const {
  proto::ProcessKilled k;
  k.id = id;
  k.node = p.node;
  k.owner = p.owner;
  k.target = p.target;
  k.planned_us = p.planned_us;
  k.restart_window_ms = p.restart_window_ms;
  return k;
}

void ProcessKills::remember(const std::string& id) {
  if (!over_.insert(id).second) return;
  over_order_.push_back(id);
  if (over_order_.size() > remembered_ids) {
    over_.erase(over_order_.front());
    over_order_.pop_front();
  }
}

std::optional<proto::ProcessKilled> ProcessKills::reported(const std::string& node, const std::string& id,
                                                           const watcher::KillSeen& seen) {
  const auto it = pending_.find(id);
  if (it == pending_.end() || it->second.node != node) return std::nullopt;
  auto k = event(id, it->second);
  k.child_id = seen.child_id;
  k.pid = seen.pid;
  k.killed_us = seen.killed_us;
  k.restarted = seen.restarted;
  k.new_pid = seen.new_pid;
  k.restarted_us = seen.restarted_us;
  k.error = seen.error;
  pending_.erase(it);
  remember(id);
  return k;
}

std::optional<proto::ProcessKilled> ProcessKills::failed(const std::string& node, const std::string& id,
                                                         const std::string& error) {
  const auto it = pending_.find(id);
  if (it == pending_.end() || it->second.node != node) return std::nullopt;
  auto k = event(id, it->second);
  k.error = error;
  pending_.erase(it);
  remember(id);
  return k;
}

std::vector<proto::ProcessKilled> ProcessKills::node_lost(const std::string& node, const std::string& why) {
  std::vector<proto::ProcessKilled> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    auto k = event(it->first, it->second);
    k.error = "the node's connection was lost before its watcher reported (" + why +
              "): a kill not yet due was dropped with the watcher; one under way may have happened";
    out.push_back(std::move(k));
    remember(it->first);
    it = pending_.erase(it);
  }
  return out;
}

std::vector<proto::ProcessKilled> ProcessKills::expire(clock::Monotonic::time_point now) {
  std::vector<proto::ProcessKilled> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto k = event(it->first, it->second);
    k.error = "no report from the node's watcher within " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(report_grace).count()) +
              " s after the restart window";
    out.push_back(std::move(k));
    remember(it->first);
    it = pending_.erase(it);
  }
  return out;
}

std::optional<clock::Monotonic::time_point> ProcessKills::next_deadline() const {
  std::optional<clock::Monotonic::time_point> next;
  for (const auto& [id, p] : pending_)
    if (!next || p.deadline < *next) next = p.deadline;
  return next;
}

}  // namespace ticksplit::agent
