#include "agent/stresses.hpp"

#include <cstdio>

#include "common/proto/event.hpp"
#include "common/proto/fault_codec.hpp"

namespace ticksplit::agent {

using ei::atom;
using ei::Term;
using K = proto::Refusal::Kind;

namespace {

// What a node's report may say; the rest (id, node, owner, the plan) the agent knows itself.
constexpr const char* kStartedProps[] = {"started_us", "processes"};
constexpr const char* kEndedProps[] = {"reason",
                                       "started",
                                       "started_us",
                                       "ended_us",
                                       "processes",
                                       "utilisation_before",
                                       "utilisation_during",
                                       "utilisation_after",
                                       "normal_late_max_ms",
                                       "rtt_before_ms",
                                       "rtt_during_ms",
                                       "error"};
constexpr std::size_t kMaxError = 1024;

// A node's error text, printable ASCII and cut: it goes into logs and histories.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxError)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

template <std::size_t N>
bool allowed(const std::string& key, const char* const (&keys)[N]) {
  for (const char* k : keys)
    if (key == k) return true;
  return false;
}

}  // namespace

std::string Stresses::now_hex() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(clock::unix_us()));
  return buf;
}

std::variant<StressCommand, proto::Refusal> Stresses::plan(const proto::StressRequest& r, const std::string& owner,
                                                           std::int64_t now_us, clock::Monotonic::time_point now,
                                                           std::int64_t max_fault_ms) {
  if (r.duration_ms > max_fault_ms)
    return proto::Refusal{K::duration_above_max_fault, {}, {}, r.duration_ms, max_fault_ms};
  const std::int64_t start = r.start_at_us.value_or(now_us);
  const std::int64_t length_us = r.duration_ms * 1000;  // duration <= max_fault: no overflow
  // start_at_us is at most 2^63 - 1 from the parser: compare without overflowing.
  if (start <= now_us - length_us) return proto::Refusal{K::already_over, {}, {}, start, 0};
  if (start - now_us > max_fault_ms * 1000) return proto::Refusal{K::starts_later_than_max_fault, {}, {}, start, 0};
  if (r.id && taken(*r.id)) return proto::Refusal{K::duplicate_id, *r.id, {}, 0, 0};
  for (const auto& [id, p] : pending_)
    if (p.node == r.node) return proto::Refusal{K::already_stressed, r.node, {}, 0, 0};
  if (pending_.size() >= max_pending)
    return proto::Refusal{K::cannot_stress, r.node, "too many stresses under way", 0, 0};
  std::string id;
  if (r.id) {
    id = *r.id;
  } else {
    do id = "s" + std::to_string(next_id_++) + "-" + id_suffix_;
    while (taken(id));
  }
  const std::int64_t end = start + length_us;
  const auto until_report = std::chrono::microseconds(std::max<std::int64_t>(0, end - now_us));
  pending_[id] =
      Pending{r.node, owner, start, end, r.hogs, false, std::nullopt, now + until_report + after_period + report_grace};
  return StressCommand{id, start, end, r.hogs};
}

void Stresses::cancel(const std::string& id) { pending_.erase(id); }

void Stresses::remember(const std::string& id) {
  if (!over_.insert(id).second) return;
  over_order_.push_back(id);
  if (over_order_.size() > remembered_ids) {
    over_.erase(over_order_.front());
    over_order_.pop_front();
  }
}

proto::StressEnded Stresses::ended_event(const std::string& id, const Pending& p, std::string error) const {
  proto::StressEnded e;
  e.id = id;
  e.node = p.node;
  e.reason = p.asked.value_or(proto::HealReason::deadline);
  e.started = false;  // not known: the node did not say
  e.planned_end_us = p.end_us;
  e.hogs = p.hogs;
  e.error = std::move(error);
  return e;
}

std::optional<proto::FaultEvent> Stresses::reported(const std::string& node, const std::string& kind,
                                                    const std::string& id,
                                                    const std::vector<std::pair<std::string, Term>>& props) {
  const auto it = pending_.find(id);
  if (it == pending_.end() || it->second.node != node) return std::nullopt;
  if (kind != "stress_started" && kind != "stress_ended") return std::nullopt;
  auto& p = it->second;
  const bool ended = kind == "stress_ended";
  // The node's props, only those a stress report has, over what the agent knows: then read
  // by the one codec of events (common/proto/fault_codec), which checks every type and range.
  proto::Event e{0, kind, 0, {}};
  e.fields = {{"id", ei::binary(id)},
              {"node", atom(node)},
              {"owner", atom(p.owner)},
              {"planned_end_us", p.end_us},
              {"hogs", p.hogs}};
  if (ended) {
    e.fields.emplace_back("reason", atom(proto::heal_reason_name(p.asked.value_or(proto::HealReason::deadline))));
    for (const char* k : {"started_us", "ended_us", "utilisation_before", "utilisation_during", "utilisation_after",
                          "normal_late_max_ms"})
      e.fields.emplace_back(k, atom("undefined"));
    const Term none = ei::tuple({atom("undefined"), atom("undefined"), std::int64_t{0}, std::int64_t{0}});
    e.fields.emplace_back("rtt_before_ms", none);
    e.fields.emplace_back("rtt_during_ms", none);
    e.fields.emplace_back("started", atom("false"));
    e.fields.emplace_back("processes", std::int64_t{0});
    e.fields.emplace_back("error", ei::binary(""));
  }
  for (const auto& [k, v] : props) {
    if (!(ended ? allowed(k, kEndedProps) : allowed(k, kStartedProps))) continue;  // a newer node's, or ours
    // Stopped early on our word: say whose (heal, heal_all, owner gone). A heal that came too
    // late (after the window, or before the node had the stress) stopped nothing: the node's
    // `deadline` stands.
    if (k == "reason" && p.asked && v.is_atom("request")) continue;
    for (auto& f : e.fields)
      if (f.first == k) f.second = v;
    bool present = false;
    for (const auto& f : e.fields) present = present || f.first == k;
    if (!present) e.fields.emplace_back(k, v);
  }
  auto typed = proto::fault_event_from(e);
  if (!ended) {
    if (!typed || !std::holds_alternative<proto::StressStarted>(*typed) || p.started) return std::nullopt;
    p.started = true;
    return std::move(*typed);
  }
  std::optional<proto::FaultEvent> out;
  if (typed && std::holds_alternative<proto::StressEnded>(*typed)) {
    auto& se = std::get<proto::StressEnded>(*typed);
    se.error = printable(se.error);
    out = std::move(*typed);
  } else {
    out = ended_event(
        id, p, "malformed report from the node: " + printable(typed ? "not a stress_ended" : typed.error().message));
  }
  pending_.erase(it);
  remember(id);
  return out;
}

std::optional<proto::StressEnded> Stresses::failed(const std::string& node, const std::string& id,
                                                   const std::string& error) {
  const auto it = pending_.find(id);
  if (it == pending_.end() || it->second.node != node) return std::nullopt;
  auto e = ended_event(id, it->second, "the node's watcher rejected the stress: " + printable(error));
  pending_.erase(it);
  remember(id);
  return e;
}

std::optional<std::pair<std::string, Term>> Stresses::stop(const std::string& id, proto::HealReason why) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  if (!it->second.asked) it->second.asked = why;
  return std::pair{it->second.node, watcher::stress_stop_command(id)};
}

std::vector<std::string> Stresses::ids_of(const std::optional<std::string>& owner) const {
  std::vector<std::string> out;
  for (const auto& [id, p] : pending_)
    if (!owner || p.owner == *owner) out.push_back(id);
  return out;
}

std::vector<proto::StressEnded> Stresses::node_lost(const std::string& node, const std::string& why) {
  std::vector<proto::StressEnded> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    out.push_back(ended_event(it->first, it->second,
                              "the node's connection was lost before it reported (" + why +
                                  "): its hogs end by themselves at the deadline, unmeasured by the agent"));
    remember(it->first);
    it = pending_.erase(it);
  }
  return out;
}

std::vector<proto::StressEnded> Stresses::expire(clock::Monotonic::time_point now) {
  std::vector<proto::StressEnded> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    out.push_back(
        ended_event(it->first, it->second,
                    "no report from the node within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(report_grace).count()) +
                        " s after the window and its after-period"));
    remember(it->first);
    it = pending_.erase(it);
  }
  return out;
}

std::optional<clock::Monotonic::time_point> Stresses::next_deadline() const {
  std::optional<clock::Monotonic::time_point> next;
  for (const auto& [id, p] : pending_)
    if (!next || p.deadline < *next) next = p.deadline;
  return next;
}

std::vector<proto::StressStatus> Stresses::status(std::int64_t now_us) const {
  using S = proto::StressStatus::State;
  std::vector<proto::StressStatus> out;
  for (const auto& [id, p] : pending_)
    out.push_back({id, p.owner, p.node, p.hogs,
                   now_us < p.start_us ? S::pending
                   : now_us < p.end_us ? S::active
                                       : S::reporting,
                   p.start_us, p.end_us});
  return out;
}

}  // namespace ticksplit::agent
