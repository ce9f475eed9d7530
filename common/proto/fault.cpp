#include "common/proto/fault.hpp"

#include <cmath>

namespace ticksplit::proto {

std::optional<Loss> Loss::of_probability(double p) noexcept {
  if (!(p > 0 && p <= 1)) return std::nullopt;  // false for NaN too
  const double ppm = std::round(p * 1e6);
  if (ppm < 1) return std::nullopt;
  return Loss{static_cast<std::uint32_t>(ppm)};
}

const char* direction_name(Direction d) noexcept {
  switch (d) {
    case Direction::in:
      return "in";
    case Direction::out:
      return "out";
    case Direction::both:
      return "both";
  }
  return "in";
}

const char* heal_reason_name(HealReason r) noexcept {
  switch (r) {
    case HealReason::deadline:
      return "deadline";
    case HealReason::request:
      return "request";
    case HealReason::heal_all:
      return "heal_all";
    case HealReason::owner_gone:
      return "owner_gone";
    case HealReason::shutdown:
      return "shutdown";
  }
  return "request";
}

const char* event_type(const FaultEvent& e) noexcept {
  static const char* const names[] = {"fault_started", "fault_healed", "fault_recovered", "pause_started",
                                      "pause_ended",   "node_killed",  "kill_ended",
                                      "process_killed", "stress_started", "stress_ended"};
  return names[e.index()];
}

const std::string& fault_id(const FaultEvent& e) noexcept {
  return std::visit([](const auto& x) -> const std::string& { return x.id; }, e);
}

const char* process_target_name(ProcessTarget::Kind k) noexcept {
  return k == ProcessTarget::Kind::name ? "name" : "child_of";
}

const char* refusal_name(Refusal::Kind k) noexcept {
  using K = Refusal::Kind;
  switch (k) {
    case K::bad_duration: return "bad_duration";
    case K::bad_loss: return "bad_loss";
    case K::not_local_node: return "not_local_node";
    case K::node_not_joined: return "node_not_joined";
    case K::already_paused: return "already_paused";
    case K::requester_node: return "requester_node";
    case K::cannot_pause: return "cannot_pause";
    case K::already_killed: return "already_killed";
    case K::no_start_command: return "no_start_command";
    case K::cannot_kill: return "cannot_kill";
    case K::already_stressed: return "already_stressed";
    case K::cannot_stress: return "cannot_stress";
    case K::duration_above_max_fault: return "duration_above_max_fault";
    case K::no_peers: return "no_peers";
    case K::unspecified: return "unspecified";
    case K::loopback: return "loopback";
    case K::exempt: return "exempt";
    case K::own_address: return "own_address";
    case K::requester_address: return "requester_address";
    case K::duplicate_id: return "duplicate_id";
    case K::already_over: return "already_over";
    case K::starts_later_than_max_fault: return "starts_later_than_max_fault";
    case K::agent_address_limit: return "agent_address_limit";
    case K::backend: return "backend";
    case K::too_many_addresses: return "too_many_addresses";
    case K::bad_peer: return "bad_peer";
    case K::peer_block_too_large: return "peer_block_too_large";
    case K::unresolvable_peer: return "unresolvable_peer";
    case K::too_many_peer_hosts: return "too_many_peer_hosts";
    case K::cannot_resolve_peers: return "cannot_resolve_peers";
    case K::unresolvable_requester: return "unresolvable_requester";
    case K::too_many_kills: return "too_many_kills";
    case K::not_allowed: return "not_allowed";
  }
  return "refused";
}

}  // namespace ticksplit::proto
