// The fault engine's results as typed values: the events a fault goes through, why a request
// was refused, and a fault's status. The engine makes them without knowing terms;
// fault_codec.hpp is the one place that knows their wire shape (docs/protocol.md), used by the
// agent to send them and by the controller to read the events back.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ticksplit::proto {

enum class Direction { in, out, both };
const char* direction_name(Direction d) noexcept;

enum class HealReason { deadline, request, heal_all, owner_gone, shutdown };
const char* heal_reason_name(HealReason r) noexcept;

// The share of matching packets a fault drops inside its window, in parts per million
// (1..1,000,000). On the wire it is the probability P = ppm / 10^6 (a float; the integer 1 is
// accepted too); the kernel's threshold is made from ppm (agent/bpf/drop_map.hpp).
struct Loss {
  static constexpr std::uint32_t total_ppm = 1'000'000;
  std::uint32_t ppm = total_ppm;

  // 0 < p <= 1, rounded to the nearest ppm; nullopt for anything else (NaN, 0, below half a
  // ppm, above 1).
  static std::optional<Loss> of_probability(double p) noexcept;
  [[nodiscard]] double probability() const noexcept { return ppm / 1e6; }
  [[nodiscard]] bool total() const noexcept { return ppm == total_ppm; }
  auto operator<=>(const Loss&) const = default;
};

// Addresses as events and status list them: the first few, and how many there are.
struct AddressList {
  std::vector<std::string> shown;
  std::int64_t count = 0;
  bool operator==(const AddressList&) const = default;
};

// The window begins (at once, or at the requested start).
struct FaultStarted {
  std::string id;
  std::vector<std::string> peers;  // as requested
  AddressList addresses;
  Direction direction = Direction::in;
  std::string owner;
  std::int64_t start_us = 0, end_us = 0;
  Loss loss;
  bool operator==(const FaultStarted&) const = default;
};

// What the kernel counted for a fault.
struct Evidence {
  std::int64_t dropped_packets = 0, dropped_bytes = 0;
  std::optional<std::int64_t> first_drop_us, last_drop_us;  // none if nothing was dropped
  // Matching packets inside the window that a lossy fault let through: the real loss rate is
  // dropped / (dropped + passed). Always 0 when the loss is total.
  std::int64_t passed_packets = 0;
  bool operator==(const Evidence&) const = default;
};

// The window ended: at its deadline, on request, or because its owner or the agent went.
struct FaultHealed {
  std::string id;
  std::vector<std::string> peers;
  HealReason reason = HealReason::deadline;
  bool started = false;  // false: healed before its window began
  std::int64_t start_us = 0, end_us = 0;
  Evidence evidence;
  bool operator==(const FaultHealed&) const = default;
};

struct PeerOutage {
  std::string address;
  std::optional<std::int64_t> outage_us;  // window start to the first packet after it
  bool recovered = false;
  bool operator==(const PeerOutage&) const = default;
};

// Traffic came back from every cut peer, or 2 x net_ticktime went by after the heal.
struct FaultRecovered {
  std::string id;
  std::vector<std::string> peers;
  bool recovered = false;
  std::optional<std::int64_t> effective_outage_us;  // the largest over peers
  std::vector<PeerOutage> per_peer;                 // the first few
  std::int64_t address_count = 0;
  bool operator==(const FaultRecovered&) const = default;
};

// A local node's OS process was stopped (SIGSTOP) for a pause (docs/faults.md): by its guard,
// a process outside the agent that resumes it at the deadline even if the agent is killed.
struct PauseStarted {
  std::string id;
  std::string node;
  std::int64_t os_pid = 0;
  std::string owner;
  std::int64_t stopped_us = 0;                // when SIGSTOP was sent
  std::optional<std::int64_t> confirmed_us;   // when the process was first seen stopped (state T)
  std::int64_t planned_end_us = 0;
  bool operator==(const PauseStarted&) const = default;
};

// The pause is over: the process resumed (SIGCONT), or never stopped.
struct PauseEnded {
  std::string id;
  std::string node;
  HealReason reason = HealReason::deadline;
  bool started = false;                      // false: ended before it stopped the process
  std::optional<std::int64_t> stopped_us;    // as in PauseStarted
  std::optional<std::int64_t> resumed_us;    // when SIGCONT was sent
  std::int64_t planned_end_us = 0;
  std::string error;                         // why the guard could not stop or resume it; empty if none
  bool operator==(const PauseEnded&) const = default;
};

// A local node's OS process was SIGKILLed for a kill_node fault (docs/faults.md), by its kill
// guard: a process outside the agent that also starts the node again, if asked, even if the
// agent is killed. Sent once the guard saw the process exit (or gave up waiting: exited_us
// absent).
struct NodeKilled {
  std::string id;
  std::string node;
  std::int64_t os_pid = 0;
  std::string owner;
  std::int64_t killed_us = 0;                    // when SIGKILL was sent
  std::optional<std::int64_t> exited_us;         // when the pidfd said the process had exited
  std::optional<std::int64_t> planned_restart_us;  // absent: the host's supervisor restarts it
  bool operator==(const NodeKilled&) const = default;
};

// The kill_node fault is over: the node was started again by the agent's command, or left to
// the host's supervisor, or never killed (healed before its instant), or the guard failed.
struct KillEnded {
  std::string id;
  std::string node;
  HealReason reason = HealReason::deadline;
  bool killed = false;                           // false: ended before the kill (or the kill failed)
  std::optional<std::int64_t> killed_us, exited_us;
  std::optional<std::int64_t> planned_restart_us;  // absent: no restart asked
  std::optional<std::int64_t> started_us;        // when the start command was spawned
  std::optional<std::int64_t> start_pid;         // the command's process (/bin/sh -c CMD)
  std::string error;                             // why the guard could not kill or start; empty if none
  bool operator==(const KillEnded&) const = default;
};

// What a kill_process kills on a local node: the process registered under `name`, or a random
// child (with a pid) of the supervisor registered under it.
struct ProcessTarget {
  enum class Kind { name, child_of };
  Kind kind = Kind::name;
  std::string name;
  bool operator==(const ProcessTarget&) const = default;
};
const char* process_target_name(ProcessTarget::Kind k) noexcept;  // name, child_of

// A kill_process is over: the node's watcher killed the target (exit(Pid, kill)) at the planned
// instant and watched for its restart for the window, or says why it killed nothing (`error`),
// or the agent says why it never heard (the node lost, no report in time).
struct ProcessKilled {
  std::string id;
  std::string node;
  std::string owner;
  ProcessTarget target;
  std::string child_id;            // child_of: the killed child's id, as text; else empty
  std::optional<std::string> pid;  // the killed process, as text (<0.123.0>); none if none was
  std::int64_t planned_us = 0;     // the planned instant (unix µs)
  std::optional<std::int64_t> killed_us;
  std::int64_t restart_window_ms = 0;
  bool restarted = false;  // a new pid under the name / for the child id within the window
  std::optional<std::string> new_pid;
  std::optional<std::int64_t> restarted_us;  // when the new pid was first seen
  std::string error;                         // why nothing was killed, or nothing heard; empty if killed
  bool operator==(const ProcessKilled&) const = default;
};

// Round trips a stressed node's prober measured to its peers (tiny erpc calls at max
// priority, every 100 ms): median and max in ms over the answered ones, how many were
// answered and how many got no answer within 1 s.
struct RoundTrips {
  std::optional<double> median_ms, max_ms;  // none if no probe was answered
  std::int64_t count = 0, lost = 0;
  bool operator==(const RoundTrips&) const = default;
};

// A local node's schedulers are being starved (docs/faults.md, "Stress"): `processes` max-
// priority hogs (hogs per online scheduler) started on the node, each ending by itself at the
// deadline.
struct StressStarted {
  std::string id;
  std::string node;
  std::string owner;
  std::int64_t started_us = 0;  // when the node started the hogs
  std::int64_t planned_end_us = 0;
  std::int64_t hogs = 0, processes = 0;
  bool operator==(const StressStarted&) const = default;
};

// The stress is over: the node's report (utilisation of its normal schedulers before, during
// and 500 ms after the window; how late normal priority ran; the probes' round trips before
// and during it), or, with an error and no figures, why there is none.
struct StressEnded {
  std::string id;
  std::string node;
  HealReason reason = HealReason::deadline;
  bool started = false;                      // false: no hog ran
  std::optional<std::int64_t> started_us;    // as in StressStarted
  std::optional<std::int64_t> ended_us;      // when the last hog was seen gone
  std::int64_t planned_end_us = 0;
  std::int64_t hogs = 0, processes = 0;
  std::optional<double> utilisation_before, utilisation_during, utilisation_after;  // 0..1
  // The longest a normal-priority process (where the node's own work runs) woke late past a
  // 10 ms timer, from the window's start to the report: about the window itself when the
  // hogs starve normal priority.
  std::optional<double> normal_late_max_ms;
  RoundTrips rtt_before, rtt_during;
  std::string error;                         // empty if none
  bool operator==(const StressEnded&) const = default;
};

using FaultEvent = std::variant<FaultStarted, FaultHealed, FaultRecovered, PauseStarted, PauseEnded, NodeKilled, KillEnded,
                                ProcessKilled, StressStarted, StressEnded>;

struct TimedFaultEvent {
  std::int64_t time_us = 0;  // unix µs, when the agent learned of it
  FaultEvent event;
  bool operator==(const TimedFaultEvent&) const = default;
};

// fault_started, fault_healed, fault_recovered, pause_started, pause_ended, node_killed, kill_ended,
// process_killed, stress_started, stress_ended
const char* event_type(const FaultEvent& e) noexcept;
const std::string& fault_id(const FaultEvent& e) noexcept;

// Why a request was refused (to_term in fault_codec.hpp gives the Reason of {error, Reason};
// refused_text in reply.hpp words one for a user).
struct Refusal {
  enum class Kind {
    bad_duration,              // n: the duration
    bad_loss,                  // n: parts per million (not in 1..1,000,000)
    duration_above_max_fault,  // n: the duration, m: the maximum
    no_peers,
    unspecified,                  // subject: the address
    loopback,                     // subject: the address
    exempt,                       // subject: the address
    own_address,                  // subject: the address
    requester_address,            // subject: the address
    duplicate_id,                 // subject: the id
    already_over,                 // n: the start
    starts_later_than_max_fault,  // n: the start
    agent_address_limit,          // n: entries needed, m: entries free
    backend,                      // subject: the kernel's error
    too_many_addresses,           // n: the limit
    bad_peer,                     // subject: the peer, detail: why
    peer_block_too_large,         // subject: the block, detail: why
    unresolvable_peer,            // subject: the node, detail: why
    too_many_peer_hosts,          // n: the limit
    cannot_resolve_peers,         // subject: why
    unresolvable_requester,       // subject: the host
    not_local_node,               // subject: the node (pause: not one this agent joins)
    node_not_joined,              // subject: the node (its OS process is not known yet)
    already_paused,               // subject: the node
    requester_node,               // subject: the node (pausing the caller would stop its own call)
    cannot_pause,                 // subject: the node, detail: why (no pidfd, no guard)
    already_killed,               // subject: the node (one kill_node per node at a time)
    no_start_command,             // subject: the node (a restart asked, no --node-start for it)
    cannot_kill,                  // subject: the node, detail: why (no guard, the spawn failed)
    too_many_kills,               // n: the limit of kill_process commands waiting for their report
    already_stressed,             // subject: the node (one stress at a time per node)
    cannot_stress,                // subject: the node, detail: why (no watcher to tell, or it refused)
    not_allowed,                  // any request: the caller's node name matches no --allow pattern
  };
  Kind kind = Kind::no_peers;
  std::string subject;
  std::string detail;
  std::int64_t n = 0, m = 0;
  bool operator==(const Refusal&) const = default;
};
const char* refusal_name(Refusal::Kind k) noexcept;

// A fault not yet recovered, as status lists it.
struct FaultStatus {
  enum class State { pending, active, recovering };
  std::string id;
  std::string owner;
  std::vector<std::string> peers;
  AddressList addresses;
  Direction direction = Direction::in;
  State state = State::pending;
  std::int64_t window_start_us = 0, window_end_us = 0;
  std::int64_t dropped_packets = 0;
  Loss loss;
  std::int64_t passed_packets = 0;
  bool operator==(const FaultStatus&) const = default;
};

// A pause not yet over, as status lists it (with the faults).
struct PauseStatus {
  enum class State { pending, stopped, resuming };
  std::string id, owner, node;
  std::int64_t os_pid = 0;
  State state = State::pending;
  std::int64_t window_start_us = 0, window_end_us = 0;
  bool operator==(const PauseStatus&) const = default;
};

// A kill_node not yet over, as status lists it (with the faults).
struct KillStatus {
  enum class State { pending, down, restarting };
  std::string id, owner, node;
  std::int64_t os_pid = 0;
  State state = State::pending;
  std::int64_t kill_us = 0;
  std::optional<std::int64_t> restart_us;
  bool operator==(const KillStatus&) const = default;
};

// A stress not yet reported, as status lists it (with the faults).
struct StressStatus {
  enum class State { pending, active, reporting };
  std::string id, owner, node;
  std::int64_t hogs = 0;
  State state = State::pending;
  std::int64_t window_start_us = 0, window_end_us = 0;
  bool operator==(const StressStatus&) const = default;
};

}  // namespace ticksplit::proto
