#include "agent/fault/pauses.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>

#include "agent/fault/engine.hpp"
#include "agent/pause/guard.hpp"
#include "agent/pause/pidfd.hpp"

namespace ticksplit::agent::fault {

using proto::Refusal;

namespace {

// A guard writes a few short lines in its life; more than this unread is not a guard.
constexpr std::size_t kMaxPending = 4096;
// How long heal() waits for the guard to say it resumed (it answers within microseconds).
constexpr int kHealWaitMs = 100;

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

Refusal node_refusal(Refusal::Kind k, const std::string& node, std::string detail = {}) {
  return Refusal{k, node, std::move(detail), 0, 0};
}

std::optional<std::int64_t> unix_of(const std::optional<std::uint64_t>& ns, const Clocks& c) {
  return ns ? std::optional(mono_to_unix_us(*ns, c)) : std::nullopt;
}

}  // namespace

std::variant<std::string, Refusal> Pauses::apply(const PauseSpec& spec, const Clocks& c, std::int64_t max_fault_ms,
                                                 const std::function<bool(const std::string&)>& taken, Output& out) {
  using K = Refusal::Kind;
  if (spec.duration_ms <= 0) return Refusal{K::bad_duration, {}, {}, spec.duration_ms, 0};
  if (spec.duration_ms > max_fault_ms) return Refusal{K::duration_above_max_fault, {}, {}, spec.duration_ms, max_fault_ms};
  if (spec.node == spec.owner) return node_refusal(K::requester_node, spec.node);
  if (!spec.process.pidfd || !spec.process.pidfd->valid()) return node_refusal(K::node_not_joined, spec.node);
  for (const auto& [id, p] : pauses_)
    if (p.node == spec.node) return node_refusal(K::already_paused, spec.node);
  if (spec.id && (taken(*spec.id) || has(*spec.id))) return Refusal{K::duplicate_id, *spec.id, {}, 0, 0};
  if (pauses_.size() >= max_pauses)
    return node_refusal(K::cannot_pause, spec.node, "already " + std::to_string(max_pauses) + " pauses");
  const std::uint64_t requested = spec.start_at_us ? unix_to_mono_ns(*spec.start_at_us, c) : c.mono_ns;
  const std::uint64_t end = saturating_add(requested, static_cast<std::uint64_t>(spec.duration_ms) * 1'000'000);
  if (end <= c.mono_ns) return Refusal{K::already_over, {}, {}, *spec.start_at_us, 0};
  if (requested > saturating_add(c.mono_ns, static_cast<std::uint64_t>(max_fault_ms) * 1'000'000))
    return Refusal{K::starts_later_than_max_fault, {}, {}, *spec.start_at_us, 0};

  Pause p;
  p.id = spec.id ? *spec.id : "p" + std::to_string(next_id_++) + "-" + std::to_string(c.unix_us / 1000);
  p.owner = spec.owner;
  p.node = spec.node;
  p.process = spec.process;
  p.start_ns = std::max(requested, c.mono_ns);
  p.end_ns = end;
  p.planned_us = {mono_to_unix_us(p.start_ns, c), mono_to_unix_us(p.end_ns, c)};
  auto guard = guards_.launch(p.process.pidfd->get(), p.process.pid, p.start_ns, p.end_ns);
  if (!guard) return node_refusal(K::cannot_pause, spec.node, guard.error().message);
  p.guard = std::move(*guard);
  p.next_check_ns = p.start_ns;
  const std::string id = p.id;
  pauses_.emplace(id, std::move(p));
  (void)out;
  return id;
}

void Pauses::heal(const std::string& id, proto::HealReason why, const Clocks& c, Output& out) {
  auto it = pauses_.find(id);
  if (it == pauses_.end()) return;
  Pause& p = it->second;
  if (!p.asked) {
    p.asked = why;
    static constexpr char kResume[] = "resume\n";
    if (::write(p.guard.control.get(), kResume, sizeof kResume - 1) < 0)
      out.problems.push_back("telling the guard of pause " + id + " to resume: " + std::strerror(errno));
  }
  // The guard answers at once; wait for it here, off the loop, so the heal's reply follows the
  // resume.
  pollfd pfd{p.guard.report.get(), POLLIN, 0};
  for (int waited = 0; waited < kHealWaitMs; waited += 5) {
    if (read_reports(p, c, out)) {
      pauses_.erase(it);
      return;
    }
    (void)::poll(&pfd, 1, 5);
  }
  if (read_reports(p, c, out)) {
    pauses_.erase(it);
    return;
  }
  take_over(p, c, out);
  pauses_.erase(it);
}

std::size_t Pauses::heal_where(const std::function<bool(const std::string&)>& which, proto::HealReason why,
                               const Clocks& c, Output& out) {
  std::vector<std::string> ids;
  for (const auto& [id, p] : pauses_)
    if (!p.asked && which(p.owner)) ids.push_back(id);
  for (const auto& id : ids) heal(id, why, c, out);
  return ids.size();
}

void Pauses::tick(const Clocks& c, Output& out) {
  for (auto it = pauses_.begin(); it != pauses_.end();) {
    Pause& p = it->second;
    if (c.mono_ns < p.next_check_ns) {
      ++it;
      continue;
    }
    if (read_reports(p, c, out)) {
      it = pauses_.erase(it);
      continue;
    }
    if (c.mono_ns >= saturating_add(p.end_ns, guard_silence_ns)) {  // the guard should have resumed it long ago
      take_over(p, c, out);
      it = pauses_.erase(it);
      continue;
    }
    // Next: the start, then the deadline; past either without word from the guard, soon again.
    const std::uint64_t awaited = p.stopped_ns ? p.end_ns : p.start_ns;
    const std::uint64_t due = c.mono_ns < awaited ? awaited : c.mono_ns + report_poll_ns;
    p.next_check_ns = due;
    ++it;
  }
}

std::optional<std::uint64_t> Pauses::next_due_ns() const {
  std::optional<std::uint64_t> next;
  for (const auto& [id, p] : pauses_) next = next ? std::min(*next, p.next_check_ns) : p.next_check_ns;
  return next;
}

std::vector<PauseStatus> Pauses::status(const Clocks& c) const {
  std::vector<PauseStatus> all;
  for (const auto& [id, p] : pauses_) {
    const auto state = p.asked || c.mono_ns >= p.end_ns ? PauseStatus::State::resuming
                       : p.stopped_ns                   ? PauseStatus::State::stopped
                                                        : PauseStatus::State::pending;
    all.push_back({id, p.owner, p.node, p.process.pid, state, p.planned_us.first, p.planned_us.second});
  }
  return all;
}

void Pauses::planned(std::vector<Planned>& out) const {
  for (const auto& [id, p] : pauses_)
    out.push_back({id, p.owner, {}, p.planned_us.first, p.planned_us.second,
                   PausedProcess{p.node, p.process.pid, p.process.start_ticks, p.guard.pid}});
}

bool Pauses::read_reports(Pause& p, const Clocks& c, Output& out) {
  char buf[512];
  bool eof = false;
  while (true) {
    const auto n = ::read(p.guard.report.get(), buf, sizeof buf);
    if (n > 0) {
      p.pending.append(buf, static_cast<std::size_t>(n));
      if (p.pending.size() > kMaxPending) {
        out.problems.push_back("the guard of pause " + p.id + " wrote more than a guard does; resuming its node");
        take_over(p, c, out);
        return true;
      }
      continue;
    }
    if (n == 0) eof = true;
    else if (errno == EINTR) continue;
    break;  // EAGAIN: all read
  }
  for (auto nl = p.pending.find('\n'); nl != std::string::npos; nl = p.pending.find('\n')) {
    const std::string line = p.pending.substr(0, nl);
    p.pending.erase(0, nl + 1);
    const auto r = pause::parse_report_line(line);
    if (!r) {
      out.problems.push_back("the guard of pause " + p.id + " wrote an unknown line: " + line.substr(0, 80));
      continue;
    }
    switch (r->kind) {
      case pause::Report::Kind::stopped: {
        p.stopped_ns = r->at_ns;
        std::uint64_t confirmed = 0;  // parse_report_line checked it is a number
        std::from_chars(r->detail.data(), r->detail.data() + r->detail.size(), confirmed);
        if (confirmed != 0) p.confirmed_ns = confirmed;
        out.events.push_back({mono_to_unix_us(r->at_ns, c),
                              proto::PauseStarted{p.id, p.node, p.process.pid, p.owner, mono_to_unix_us(r->at_ns, c),
                                                  unix_of(p.confirmed_ns, c), p.planned_us.second}});
        break;
      }
      case pause::Report::Kind::resumed: {
        // The agent's reason when it asked; else the guard's own: the deadline, or a signal
        // (systemd stopping the agent's unit, say: a shutdown).
        const auto why = p.asked ? *p.asked
                         : r->detail == "deadline" ? proto::HealReason::deadline
                                                   : proto::HealReason::shutdown;
        end(p, why, r->at_ns, {}, c, out);
        return true;
      }
      case pause::Report::Kind::failed:
        end(p, p.asked.value_or(proto::HealReason::deadline), std::nullopt, "the guard failed: " + r->detail, c, out);
        return true;
    }
  }
  if (eof) {  // gone without a last word
    if (!p.stopped_ns) {
      end(p, p.asked.value_or(proto::HealReason::deadline), std::nullopt, "the guard exited before stopping the node",
          c, out);
    } else {
      take_over(p, c, out);
    }
    return true;
  }
  return false;
}

void Pauses::end(Pause& p, proto::HealReason why, std::optional<std::uint64_t> resumed_ns, std::string error,
                 const Clocks& c, Output& out) {
  out.events.push_back({c.unix_us, proto::PauseEnded{p.id, p.node, why, p.stopped_ns.has_value(),
                                                     unix_of(p.stopped_ns, c), unix_of(resumed_ns, c),
                                                     p.planned_us.second, std::move(error)}});
  p.guard.report.reset();
  p.guard.control.reset();
  guards_.reap(p.guard.pid);
  if (ended_.size() >= 1024) ended_.clear();
  ended_.insert(p.id);
}

void Pauses::take_over(Pause& p, const Clocks& c, Output& out) {
  // Through the pidfd: the node's process, never whoever has its pid now.
  const bool sent = pause::pidfd_signal(p.process.pidfd->get(), SIGCONT) == 0;
  const std::string why = sent ? "the guard is gone; the agent resumed the node"
                               : std::string("the guard is gone and resuming the node failed: ") + std::strerror(errno);
  out.problems.push_back("pause " + p.id + ": " + why);
  end(p, p.asked.value_or(proto::HealReason::deadline), sent ? std::optional(c.mono_ns) : std::nullopt, why, c, out);
}

}  // namespace ticksplit::agent::fault
