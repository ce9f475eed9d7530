#include "agent/fault/kills.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>

#include "agent/fault/engine.hpp"
#include "agent/kill/guard.hpp"
#include "agent/kill/start_command.hpp"

namespace ticksplit::agent::fault {

using proto::Refusal;

namespace {

constexpr std::size_t kMaxPending = 4096;  // a guard writes a few short lines in its life
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

// The pidfd's process has exited (a zombie too): the pidfd is readable.
bool has_exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

}  // namespace

std::variant<std::string, Refusal> Kills::apply(const KillSpec& spec, const Clocks& c, std::int64_t max_fault_ms) {
  using K = Refusal::Kind;
  const auto after = spec.restart_after_ms;
  if (after && *after <= 0) return Refusal{K::bad_duration, {}, {}, *after, 0};
  if (after && *after > max_fault_ms) return Refusal{K::duration_above_max_fault, {}, {}, *after, max_fault_ms};
  if (spec.node == spec.owner) return node_refusal(K::requester_node, spec.node);
  if (!spec.process.pidfd || !spec.process.pidfd->valid()) return node_refusal(K::node_not_joined, spec.node);
  for (const auto& [id, k] : kills_)
    if (k.node == spec.node) return node_refusal(K::already_killed, spec.node);
  const auto command = commands_.find(spec.node);
  if (after && command == commands_.end()) return node_refusal(K::no_start_command, spec.node);
  if (!spec.id || has(*spec.id)) return Refusal{K::duplicate_id, spec.id.value_or(""), {}, 0, 0};
  if (kills_.size() >= max_kills)
    return node_refusal(K::cannot_kill, spec.node, "already " + std::to_string(max_kills) + " kills");
  const std::uint64_t requested = spec.start_at_us ? unix_to_mono_ns(*spec.start_at_us, c) : c.mono_ns;
  // The fault is over at its restart, or at the kill itself when the supervisor restarts.
  const std::uint64_t end = saturating_add(requested, static_cast<std::uint64_t>(after.value_or(0)) * 1'000'000);
  if (end < c.mono_ns) return Refusal{K::already_over, {}, {}, *spec.start_at_us, 0};
  if (requested > saturating_add(c.mono_ns, static_cast<std::uint64_t>(max_fault_ms) * 1'000'000))
    return Refusal{K::starts_later_than_max_fault, {}, {}, *spec.start_at_us, 0};

  Kill k;
  k.id = *spec.id;
  k.owner = spec.owner;
  k.node = spec.node;
  k.process = spec.process;
  k.kill_ns = std::max(requested, c.mono_ns);
  if (after) k.restart_ns = std::max(end, k.kill_ns);
  k.kill_us = mono_to_unix_us(k.kill_ns, c);
  k.restart_us = unix_of(k.restart_ns, c);
  auto guard = guards_.launch(k.process.pidfd->get(), k.process.pid, k.kill_ns, k.restart_ns.value_or(0),
                              after ? command->second : std::string());
  if (!guard) return node_refusal(K::cannot_kill, spec.node, guard.error().message);
  k.guard = std::move(*guard);
  k.next_check_ns = std::min(k.kill_ns, c.mono_ns + first_check_ns);
  const std::string id = k.id;
  kills_.emplace(id, std::move(k));
  return id;
}

void Kills::tell_end(Kill& k, proto::HealReason why, Output& out) {
  if (k.asked) return;
  k.asked = why;
  static constexpr char kEnd[] = "end\n";
  if (::write(k.guard.control.get(), kEnd, sizeof kEnd - 1) < 0 && errno != EPIPE)
    out.problems.push_back("telling the guard of kill " + k.id + " to end: " + std::strerror(errno));
}

void Kills::await_end(Kill& k, std::uint64_t deadline_ns, const Clocks& c, Output& out) {
  while (!read_reports(k, c, out)) {
    const auto now = monotonic_ns();
    if (now >= deadline_ns) return take_over(k, c, out);
    pollfd pfd{k.guard.report.get(), POLLIN, 0};
    (void)::poll(&pfd, 1, static_cast<int>(std::min<std::uint64_t>((deadline_ns - now) / 1'000'000 + 1, 5)));
  }
}

void Kills::heal(const std::string& id, proto::HealReason why, const Clocks& c, Output& out) {
  auto it = kills_.find(id);
  if (it == kills_.end()) return;
  tell_end(it->second, why, out);
  await_end(it->second, monotonic_ns() + kHealWaitMs * 1'000'000ULL, c, out);
  kills_.erase(it);
}

std::size_t Kills::heal_where(const std::function<bool(const std::string&)>& which, proto::HealReason why,
                              const Clocks& c, Output& out) {
  std::vector<std::string> ids;
  for (auto& [id, k] : kills_)
    if (!k.asked && which(k.owner)) {
      tell_end(k, why, out);
      ids.push_back(id);
    }
  const auto deadline = monotonic_ns() + kHealWaitMs * 1'000'000ULL;
  for (const auto& id : ids) {
    auto it = kills_.find(id);
    await_end(it->second, deadline, c, out);
    kills_.erase(it);
  }
  return ids.size();
}

void Kills::tick(const Clocks& c, Output& out) {
  for (auto it = kills_.begin(); it != kills_.end();) {
    Kill& k = it->second;
    if (c.mono_ns < k.next_check_ns) {
      ++it;
      continue;
    }
    if (read_reports(k, c, out)) {
      it = kills_.erase(it);
      continue;
    }
    // The guard's last word is due by the restart, or by the end of its wait for the exit.
    const auto last_word = std::max(k.restart_ns.value_or(0), saturating_add(k.kill_ns, kill::exit_wait_ns));
    if (c.mono_ns >= saturating_add(last_word, guard_silence_ns)) {
      take_over(k, c, out);
      it = kills_.erase(it);
      continue;
    }
    // Next: the kill; once killed, the exit (soon); then the restart.
    const std::uint64_t awaited = !k.killed_ns               ? k.kill_ns
                                  : !k.exited_ns             ? c.mono_ns
                                  : k.restart_ns && !k.asked ? *k.restart_ns
                                                             : c.mono_ns;
    k.next_check_ns = c.mono_ns < awaited ? awaited : c.mono_ns + report_poll_ns;
    ++it;
  }
}

std::optional<std::uint64_t> Kills::next_due_ns() const {
  std::optional<std::uint64_t> next;
  for (const auto& [id, k] : kills_) next = next ? std::min(*next, k.next_check_ns) : k.next_check_ns;
  return next;
}

std::vector<proto::KillStatus> Kills::status(const Clocks& c) const {
  std::vector<proto::KillStatus> all;
  for (const auto& [id, k] : kills_) {
    using S = proto::KillStatus::State;
    const auto state = !k.killed_ns                                              ? S::pending
                       : k.asked || (k.restart_ns && c.mono_ns >= *k.restart_ns) ? S::restarting
                                                                                 : S::down;
    all.push_back({id, k.owner, k.node, k.process.pid, state, k.kill_us, k.restart_us});
  }
  return all;
}

bool Kills::read_reports(Kill& k, const Clocks& c, Output& out) {
  char buf[512];
  bool eof = false;
  while (true) {
    const auto n = ::read(k.guard.report.get(), buf, sizeof buf);
    if (n > 0) {
      k.pending.append(buf, static_cast<std::size_t>(n));
      if (k.pending.size() > kMaxPending) {
        out.problems.push_back("the guard of kill " + k.id + " wrote more than a guard does");
        take_over(k, c, out);
        return true;
      }
      continue;
    }
    if (n == 0)
      eof = true;
    else if (errno == EINTR)
      continue;
    break;  // EAGAIN: all read
  }
  for (auto nl = k.pending.find('\n'); nl != std::string::npos; nl = k.pending.find('\n')) {
    const std::string line = k.pending.substr(0, nl);
    k.pending.erase(0, nl + 1);
    const auto r = kill::parse_kill_report_line(line);
    if (!r) {
      out.problems.push_back("the guard of kill " + k.id + " wrote an unknown line: " + line.substr(0, 80));
      continue;
    }
    using R = kill::KillReport::Kind;
    switch (r->kind) {
      case R::killed:
        k.killed_ns = r->at_ns;
        break;
      case R::exited:
        k.exited_ns = r->at_ns;
        killed_event(k, c, out);
        if (!k.restart_ns) {  // the host's supervisor's turn: the fault is over
          end(k, k.asked.value_or(proto::HealReason::deadline), std::nullopt, std::nullopt, {}, c, out);
          return true;
        }
        break;
      case R::started:
        end(k, k.asked.value_or(proto::HealReason::deadline), r->at_ns, r->pid, {}, c, out);
        return true;
      case R::cancelled:
        end(k, k.asked.value_or(proto::HealReason::shutdown), std::nullopt, std::nullopt, {}, c, out);
        return true;
      case R::failed:
        if (k.killed_ns && !k.exited_ns) killed_event(k, c, out);
        end(k, k.asked.value_or(proto::HealReason::deadline), std::nullopt, std::nullopt,
            "the guard failed: " + r->detail, c, out);
        return true;
    }
  }
  if (eof) {
    take_over(k, c, out);
    return true;
  }
  return false;
}

void Kills::killed_event(const Kill& k, const Clocks& c, Output& out) const {
  out.events.push_back({mono_to_unix_us(*k.killed_ns, c),
                        proto::NodeKilled{k.id, k.node, k.process.pid, k.owner, mono_to_unix_us(*k.killed_ns, c),
                                          unix_of(k.exited_ns, c), k.restart_us}});
}

void Kills::end(Kill& k, proto::HealReason why, std::optional<std::uint64_t> started_ns,
                std::optional<std::int64_t> pid, std::string error, const Clocks& c, Output& out) {
  out.events.push_back({c.unix_us, proto::KillEnded{k.id, k.node, why, k.killed_ns.has_value(), unix_of(k.killed_ns, c),
                                                    unix_of(k.exited_ns, c), k.restart_us, unix_of(started_ns, c), pid,
                                                    std::move(error)}});
  k.guard.report.reset();
  k.guard.control.reset();
  guards_.reap(k.guard.pid);
  if (ended_.size() >= 1024) ended_.clear();
  ended_.insert(k.id);
}

void Kills::take_over(Kill& k, const Clocks& c, Output& out) {
  // Gone (killed, said so or not: the pidfd tells): the restart the guard planned is the agent's
  // now, at once rather than at its instant (the loop does not wait on engine work).
  const bool gone = has_exited(k.process.pidfd->get());
  std::string why = "the guard is gone";
  std::optional<std::uint64_t> started;
  std::optional<std::int64_t> pid;
  if (gone && k.restart_ns) {
    const auto command = commands_.find(k.node);
    pid_t child = 0;
    const int e = command == commands_.end() ? ENOENT : kill::spawn_start_command(command->second.c_str(), child);
    if (e == 0) {
      started = monotonic_ns();
      pid = child;
      why += "; the agent started the node";
    } else {
      why += std::string("; starting the node failed: ") + std::strerror(e);
    }
  } else if (!gone) {
    why += "; the node was not killed";
  }
  out.problems.push_back("kill " + k.id + ": " + why);
  if (k.killed_ns && !k.exited_ns) killed_event(k, c, out);
  end(k, k.asked.value_or(proto::HealReason::deadline), started, pid, why, c, out);
}

}  // namespace ticksplit::agent::fault
