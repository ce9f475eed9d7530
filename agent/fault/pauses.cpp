#include "agent/fault/pauses.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <limits>

#include "agent/fault/engine.hpp"
#include "agent/pause/guard.hpp"
#include "agent/pause/pidfd.hpp"
#include "agent/pause/proc_stat.hpp"

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

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

Refusal node_refusal(Refusal::Kind k, const std::string& node, std::string detail = {}) {
  return Refusal{k, node, std::move(detail), 0, 0};
}

std::optional<std::int64_t> unix_of(const std::optional<std::uint64_t>& ns, const Clocks& c) {
  return ns ? std::optional(mono_to_unix_us(*ns, c)) : std::nullopt;
}

}  // namespace

std::variant<std::string, Refusal> Pauses::apply(const PauseSpec& spec, const Clocks& c, std::int64_t max_fault_ms,
                                                 Output& out) {
  using K = Refusal::Kind;
  if (spec.duration_ms <= 0) return Refusal{K::bad_duration, {}, {}, spec.duration_ms, 0};
  if (spec.duration_ms > max_fault_ms) return Refusal{K::duration_above_max_fault, {}, {}, spec.duration_ms, max_fault_ms};
  if (spec.node == spec.owner) return node_refusal(K::requester_node, spec.node);
  if (!spec.process.pidfd || !spec.process.pidfd->valid()) return node_refusal(K::node_not_joined, spec.node);
  for (const auto& [id, p] : pauses_)
    if (p.node == spec.node) return node_refusal(K::already_paused, spec.node);
  if (!spec.id || has(*spec.id)) return Refusal{K::duplicate_id, spec.id.value_or(""), {}, 0, 0};  // the engine's to give
  if (pauses_.size() >= max_pauses)
    return node_refusal(K::cannot_pause, spec.node, "already " + std::to_string(max_pauses) + " pauses");
  const std::uint64_t requested = spec.start_at_us ? unix_to_mono_ns(*spec.start_at_us, c) : c.mono_ns;
  const std::uint64_t end = saturating_add(requested, static_cast<std::uint64_t>(spec.duration_ms) * 1'000'000);
  if (end <= c.mono_ns) return Refusal{K::already_over, {}, {}, *spec.start_at_us, 0};
  if (requested > saturating_add(c.mono_ns, static_cast<std::uint64_t>(max_fault_ms) * 1'000'000))
    return Refusal{K::starts_later_than_max_fault, {}, {}, *spec.start_at_us, 0};

  Pause p;
  p.id = *spec.id;
  p.owner = spec.owner;
  p.node = spec.node;
  p.process = spec.process;
  p.start_ns = std::max(requested, c.mono_ns);
  p.end_ns = end;
  p.planned_us = {mono_to_unix_us(p.start_ns, c), mono_to_unix_us(p.end_ns, c)};
  auto guard = guards_.launch(p.process.pidfd->get(), p.process.pid, p.start_ns, p.end_ns);
  if (!guard) return node_refusal(K::cannot_pause, spec.node, guard.error().message);
  p.guard = std::move(*guard);
  p.next_check_ns = std::min(p.start_ns, c.mono_ns + first_check_ns);
  const std::string id = p.id;
  pauses_.emplace(id, std::move(p));
  (void)out;
  return id;
}

void Pauses::tell_resume(Pause& p, proto::HealReason why, Output& out) {
  if (p.asked) return;
  p.asked = why;
  static constexpr char kResume[] = "resume\n";
  // EPIPE: the guard has just exited (its deadline came); its last line says so.
  if (::write(p.guard.control.get(), kResume, sizeof kResume - 1) < 0 && errno != EPIPE)
    out.problems.push_back("telling the guard of pause " + p.id + " to resume: " + std::strerror(errno));
}

void Pauses::await_end(Pause& p, std::uint64_t deadline_ns, const Clocks& c, Output& out) {
  while (!read_reports(p, c, out)) {
    const auto now = monotonic_ns();
    if (now >= deadline_ns) return take_over(p, c, out);
    pollfd pfd{p.guard.report.get(), POLLIN, 0};
    (void)::poll(&pfd, 1, static_cast<int>(std::min<std::uint64_t>((deadline_ns - now) / 1'000'000 + 1, 5)));
  }
}

void Pauses::heal(const std::string& id, proto::HealReason why, const Clocks& c, Output& out) {
  auto it = pauses_.find(id);
  if (it == pauses_.end()) return;
  tell_resume(it->second, why, out);
  // The guard answers at once; wait for it here, off the loop, so the heal's reply follows the
  // resume.
  await_end(it->second, monotonic_ns() + kHealWaitMs * 1'000'000ULL, c, out);
  pauses_.erase(it);
}

std::size_t Pauses::heal_where(const std::function<bool(const std::string&)>& which, proto::HealReason why,
                               const Clocks& c, Output& out) {
  std::vector<std::string> ids;
  for (auto& [id, p] : pauses_)
    if (!p.asked && which(p.owner)) {
      tell_resume(p, why, out);  // every guard first: they resume together, and one wait serves all
      ids.push_back(id);
    }
  const auto deadline = monotonic_ns() + kHealWaitMs * 1'000'000ULL;
  for (const auto& id : ids) {
    auto it = pauses_.find(id);
    await_end(it->second, deadline, c, out);
    pauses_.erase(it);
  }
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
                   PausedProcess{p.node, p.process.pid, p.process.start_ticks, p.guard.pid, p.guard.start_ticks}});
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
        const auto why = r->detail == "deadline" ? proto::HealReason::deadline
                         : p.asked                 ? *p.asked
                                                   : proto::HealReason::shutdown;
        // Before the start the guard gives up without a SIGCONT: nothing was resumed.
        end(p, why, p.stopped_ns ? std::optional(r->at_ns) : std::nullopt, {}, c, out);
        return true;
      }
      case pause::Report::Kind::failed: {
        // It may have stopped the node before it failed (its stopped line not written yet).
        const bool resumed = resume_if_stopped(p, out);
        end(p, p.asked.value_or(proto::HealReason::deadline), resumed ? std::optional(c.mono_ns) : std::nullopt,
            "the guard failed: " + r->detail + (resumed ? "; the agent resumed the node" : ""), c, out);
        return true;
      }
    }
  }
  if (eof) {  // gone without a last word: maybe after its SIGSTOP, before it said so
    take_over(p, c, out);
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

bool Pauses::resume_if_stopped(const Pause& p, Output& out) {
  // The pidfd's process is the node's (a reaped one answers ESRCH to signal 0): its /proc
  // entry is then the node's too.
  if (pause::pidfd_signal(p.process.pidfd->get(), 0) != 0) return false;
  const auto stat = pause::read_proc_stat(p.process.pid);
  if (!stat || stat->state != 'T') return false;
  if (pause::pidfd_signal(p.process.pidfd->get(), SIGCONT) == 0) return true;
  out.problems.push_back("pause " + p.id + ": resuming the node failed: " + std::strerror(errno));
  return false;
}

void Pauses::take_over(Pause& p, const Clocks& c, Output& out) {
  const bool resumed = resume_if_stopped(p, out);
  const std::string why =
      resumed ? "the guard is gone; the agent resumed the node" : "the guard is gone; the node was not stopped";
  out.problems.push_back("pause " + p.id + ": " + why);
  end(p, p.asked.value_or(proto::HealReason::deadline), resumed ? std::optional(c.mono_ns) : std::nullopt, why, c,
      out);
}

}  // namespace ticksplit::agent::fault
