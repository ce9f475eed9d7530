// The fault engine: turns partition requests into drop windows in the kernel map, composes
// overlapping faults per peer, heals them (at the deadline, on request, when their owner
// goes), and reports what the kernel saw: packets dropped and when traffic came back.
//
// One map entry per (peer address, direction) holds the union of the windows of every active
// fault covering it; when faults leave gaps, the entry holds the stretch that is current or
// next, and tick() writes the following one when it is due. Where faults with different loss
// overlap, the strongest applies: the union is cut into stretches of one probability, each
// the largest of the faults covering it (docs/faults.md). The entry's counters are
// cumulative; a fault's evidence is the difference between its start and its heal.
//
// The engine knows neither Erlang terms nor the log: it returns typed values
// (common/proto/fault.hpp), which the agent encodes and logs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "agent/fault/backend.hpp"
#include "agent/fault/kills.hpp"
#include "agent/fault/pauses.hpp"
#include "common/net/cidr.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::agent::fault {

// What a fault may never drop, and how long it may last.
struct Policy {
  std::vector<net::Cidr> exempt;  // --exempt: the control network
  std::vector<net::Cidr> local;   // this host's own addresses (its nodes, the agent's link)
  std::int64_t max_fault_ms = std::int64_t{10} * 60 * 1000;
  std::size_t max_map_entries = bpf::drop_map_capacity;  // (address, direction) keys of all faults
};

// A partition request with its peers resolved to addresses.
struct FaultSpec {
  std::optional<std::string> id;
  std::string owner;                       // the node that asked
  std::vector<std::string> peers;          // as requested, for events and status
  std::vector<net::Cidr> addresses;        // full-length prefixes
  std::vector<net::Cidr> owner_addresses;  // the requester's own: never dropped
  proto::Direction direction = proto::Direction::in;
  std::optional<std::int64_t> start_at_us;  // unix; absent: now
  std::int64_t duration_ms = 0;
  proto::Loss loss;
};

// A fault as the ledger records it (agent/ledger.hpp): enough to report it if this agent is
// killed and a new one removes its filters.
// A pause is one too: the process it stopped, so that a new agent can resume it (and tell a
// reused pid by its start time).
struct PausedProcess {
  std::string node;
  std::int64_t pid = 0;
  std::uint64_t start_ticks = 0;
  std::int64_t guard_pid = 0;  // a guard still waiting would stop the node later: the next agent ends it
  std::uint64_t guard_start_ticks = 0;
  bool operator==(const PausedProcess&) const = default;
};
struct Planned {
  std::string id;
  std::string owner;
  std::vector<std::string> peers;  // a partition's; empty for a pause
  std::int64_t start_us = 0;       // unix
  std::int64_t end_us = 0;
  std::optional<PausedProcess> paused;
  bool operator==(const Planned&) const = default;
};

using proto::HealReason;

// What an engine call produced besides its result: the fault events, in order, and the kernel
// errors it worked around (a heal whose early end could not be written ends at the old
// deadline anyway), for the agent's log.
struct Output {
  std::vector<proto::TimedFaultEvent> events;
  std::vector<std::string> problems;
};

// Addresses listed per fault in fault_started and status (address_count has them all).
inline constexpr std::size_t max_listed_addresses = 64;

// How often a healed fault's entries are read to see whether traffic came back.
inline constexpr std::uint64_t recovery_poll_ns = 20'000'000;
// ... and at least this much longer per entry a poll reads (a read costs about 1 µs): the loop
// spends at most a tenth of its time polling.
inline constexpr std::uint64_t recovery_poll_ns_per_read = 10'000;

struct KeyLess {
  bool operator()(const bpf::DropKey& a, const bpf::DropKey& b) const noexcept;
};

class Engine {
 public:
  // `guards`: how pauses stop and resume a node (none: pauses are refused, cannot_pause).
  Engine(Backend& backend, Policy policy, Guards* guards = nullptr);

  // A healed fault waits this long for traffic from its peers (docs/protocol.md, fault_recovered:
  // 2 x net_ticktime).
  void set_recovery_timeout_ms(std::int64_t ms) { recovery_timeout_ns_ = static_cast<std::uint64_t>(ms) * 1'000'000; }

  // The new fault's id, or why it was refused. Nothing is left in the map when a fault is
  // refused.
  std::variant<std::string, proto::Refusal> apply(const FaultSpec& spec, Output& out);

  // A pause of a local node's process (pauses.hpp); the id, or why it was refused.
  std::variant<std::string, proto::Refusal> pause(const PauseSpec& spec, Output& out);

  // kill_node faults (kills.hpp): none until enabled (then refused, cannot_kill).
  void enable_kills(KillGuards& guards, std::map<std::string, std::string> commands) {
    kills_.emplace(guards, std::move(commands));
  }
  std::variant<std::string, proto::Refusal> kill_node(const KillSpec& spec, Output& out);
  [[nodiscard]] std::vector<proto::KillStatus> kill_status() const;

  // Heals a partition, a pause or a kill (ids are unique across them).
  enum class Healed { now, already, not_found };
  Healed heal(const std::string& id, Output& out);
  std::size_t heal_all(HealReason why, Output& out);
  std::size_t heal_owner(const std::string& node, Output& out);

  // Does what is due: starts, deadlines, recovery checks. Emits their events.
  void tick(Output& out);
  // When tick() next has something to do (monotonic ns), if ever.
  [[nodiscard]] std::optional<std::uint64_t> next_due_ns() const;

  // Faults not yet recovered, with their counters so far; pauses not yet over.
  std::vector<proto::FaultStatus> status(Output& out);
  [[nodiscard]] std::vector<PauseStatus> pause_status() const;
  // Every fault not yet over, without reading the kernel's counters: what the ledger keeps.
  [[nodiscard]] std::vector<Planned> planned() const;
  // Changes whenever planned() may have: a fault applied, healed or released.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }
  [[nodiscard]] std::size_t size() const { return faults_.size(); }
  [[nodiscard]] std::size_t entries() const { return keys_.size(); }

 private:
  struct Window {
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
    bool operator==(const Window&) const = default;
  };
  struct Stretch {  // what an entry holds: a window and its drop probability
    Window window;
    proto::Loss loss;
    bool operator==(const Stretch&) const = default;
  };
  struct Cut {  // one map entry a fault uses
    bpf::DropKey key{};
    std::string address;
    bool counts_for_recovery = false;  // traffic on this entry tells that the peer is back
    std::uint64_t base_packets = 0, base_bytes = 0, base_passed = 0;
    std::uint64_t passed_ns = 0;  // first packet after the window, once seen
    bool superseded = false;      // a later window was written before traffic came back
  };
  struct Fault {
    enum class State { pending, active, recovering };
    std::string id;
    std::string owner;
    std::vector<std::string> peers;
    proto::Direction direction = proto::Direction::in;
    proto::Loss loss;
    Window window;  // its end moves earlier when healed before the deadline
    std::pair<std::int64_t, std::int64_t> planned_us{};  // the window as applied, unix µs
    State state = State::pending;
    std::uint64_t recovery_deadline_ns = 0;
    std::uint64_t next_poll_ns = 0;
    std::vector<Cut> cuts;
    std::map<bpf::DropKey, std::size_t, KeyLess> cut_index;  // key -> position in cuts

    Cut* cut_for(const bpf::DropKey& key) {
      auto it = cut_index.find(key);
      return it == cut_index.end() ? nullptr : &cuts[it->second];
    }
  };
  struct Entry {
    Stretch written;
    std::set<std::string> faults;  // ids of every fault using the entry
  };
  struct Evidence {
    std::uint64_t packets = 0, bytes = 0, first_ns = 0, last_ns = 0, passed = 0;
  };

  std::optional<proto::Refusal> refuse(const FaultSpec& spec) const;
  [[nodiscard]] bool id_taken(const std::string& id) const;
  std::string fresh_id(char kind);  // 'f' a partition, 'p' a pause
  // The stretch of an entry's faults that contains now_ns or comes next, if any.
  std::optional<Stretch> wanted(const Entry& entry, std::uint64_t now_ns) const;
  // The counters a fault's evidence starts from on a cut.
  static void set_base(Cut& cut, const bpf::DropValue& v);
  // `known`: the entry's value, if the caller has just read it.
  Status sync(const bpf::DropKey& key, std::uint64_t now_ns, const bpf::DropValue* known = nullptr);
  std::size_t heal_where(const std::function<bool(const Fault&)>& which, HealReason why, Output& out);
  // Runs a call on the pauses, moving the generation if it changed which pauses there are.
  template <class F>
  auto on_pauses(F&& f);
  Result<bpf::DropValue> read(const bpf::DropKey& key);
  void harvest(const bpf::DropKey& key, const bpf::DropValue& v);
  Evidence evidence(Fault& f, Output& out);
  void start(Fault& f, const Clocks& c, Output& out);
  void heal_fault(Fault& f, HealReason why, const Clocks& c, Output& out);
  void check_recovery(Fault& f, const Clocks& c, Output& out);
  void release(std::string id, Output& out);
  static proto::AddressList listed_addresses(const Fault& f);

  Backend& backend_;
  Policy policy_;
  std::optional<Pauses> pauses_;
  std::optional<Kills> kills_;
  std::uint64_t recovery_timeout_ns_ = 120'000'000'000;  // 2 x OTP's default T until a node tells us
  std::map<std::string, Fault> faults_;
  std::map<bpf::DropKey, Entry, KeyLess> keys_;
  std::set<std::string> finished_;  // recently healed ids, so healing them again answers ok
  std::uint64_t next_id_ = 1;
  std::uint64_t generation_ = 0;
  std::string id_suffix_;
};

// The map key of an address for packets arriving from it (in) or leaving to it (out).
bpf::DropKey drop_key(const net::Cidr& address, bool in) noexcept;

}  // namespace ticksplit::agent::fault
