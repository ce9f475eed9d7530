// Pauses: a local node's OS process stopped (SIGSTOP) for a window and resumed (SIGCONT) at
// its deadline (docs/faults.md). The stopping and the resuming are done by a guard, a process
// of its own per pause, detached from the agent (agent/pause/guard.hpp): the resume does not
// depend on the agent, which may be killed mid-pause. This class starts the guards, tells
// them to resume early (heal), and reads what they report, on the fault engine's thread.
//
// It knows neither terms nor the log, like the engine: it returns typed events
// (common/proto/fault.hpp) and refusals.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "agent/fault/backend.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::agent::fault {

struct Output;
struct Planned;

// The seam: the real one spawns ticksplit-pause-guard (agent/pause/guard.hpp); unit tests
// play the guard themselves through the pipes.
class Guards {
 public:
  struct Handle {
    Fd report;   // read end: the guard's lines (stopped, resumed, failed)
    Fd control;  // write end: "resume\n" ends the pause early
    pid_t pid = 0;
    std::uint64_t start_ticks = 0;  // /proc/<pid>/stat's start time: the ledger tells a reused pid by it
  };
  Guards() = default;
  Guards(const Guards&) = delete;
  Guards& operator=(const Guards&) = delete;
  virtual ~Guards() = default;
  // A guard that stops `pid` (through `pidfd`) at start_ns and resumes it by end_ns
  // (CLOCK_MONOTONIC).
  virtual Result<Handle> launch(int pidfd, pid_t pid, std::uint64_t start_ns, std::uint64_t end_ns) = 0;
  // The guard's report pipe is closed: it has exited, or will at once.
  virtual void reap(pid_t pid) = 0;
};

// A local node's OS process, as the agent knows it from the node's own word (the watcher
// reports os:getpid()) and holds it: a pidfd, so that a reused pid is never signalled.
struct NodeProcess {
  pid_t pid = 0;
  std::shared_ptr<const Fd> pidfd;
  std::uint64_t start_ticks = 0;  // /proc/<pid>/stat's starttime: the ledger tells a reused pid by it
};

struct PauseSpec {
  std::optional<std::string> id;
  std::string owner;  // the node that asked
  std::string node;   // the node to pause: one this agent joins
  NodeProcess process;
  std::optional<std::int64_t> start_at_us;  // unix; absent: now
  std::int64_t duration_ms = 0;
};

using proto::PauseStatus;

class Pauses {
 public:
  // How long past a due instant a guard's line may take before the pause is checked again,
  // and how long past the deadline before a silent guard is taken for dead (then the agent
  // resumes the node itself, and says so).
  static constexpr std::uint64_t report_poll_ns = 2'000'000;
  // A guard's first word is read this soon after its launch: one that fails at once (the node
  // gone, its setup) ends the pause then, not at its start.
  static constexpr std::uint64_t first_check_ns = 50'000'000;
  static constexpr std::uint64_t guard_silence_ns = 1'000'000'000;
  // One pause per node at a time, and a bound on them all (guards are processes).
  static constexpr std::size_t max_pauses = 64;

  explicit Pauses(Guards& guards) : guards_(guards) {}

  // The pause's id (spec.id: the engine gives one if the caller did not, unique across
  // partitions and pauses), or why it was refused. `max_fault_ms` bounds the duration and how
  // far ahead it may start.
  std::variant<std::string, proto::Refusal> apply(const PauseSpec& spec, const Clocks& c, std::int64_t max_fault_ms,
                                                  Output& out);
  [[nodiscard]] bool has(const std::string& id) const { return pauses_.count(id) != 0; }
  // Ended lately (the last 1024): healing it again is not an error.
  [[nodiscard]] bool ended(const std::string& id) const { return ended_.count(id) != 0; }
  // Tells the guard to resume now; waits (on the engine's thread, never the loop) until it
  // says it did, at most 100 ms (for all the pauses of one heal_where together).
  void heal(const std::string& id, proto::HealReason why, const Clocks& c, Output& out);
  std::size_t heal_where(const std::function<bool(const std::string& owner)>& which, proto::HealReason why,
                         const Clocks& c, Output& out);

  void tick(const Clocks& c, Output& out);
  [[nodiscard]] std::optional<std::uint64_t> next_due_ns() const;
  [[nodiscard]] std::vector<PauseStatus> status(const Clocks& c) const;
  // Every pause not yet over, with its process, for the ledger.
  void planned(std::vector<Planned>& out) const;
  [[nodiscard]] std::size_t size() const { return pauses_.size(); }

 private:
  struct Pause {
    std::string id, owner, node;
    NodeProcess process;
    std::uint64_t start_ns = 0, end_ns = 0;
    std::pair<std::int64_t, std::int64_t> planned_us{};
    Guards::Handle guard;
    std::string pending;  // a partial line from the guard
    std::optional<std::uint64_t> stopped_ns, confirmed_ns;
    std::optional<proto::HealReason> asked;  // why the agent told it to resume, if it did
    std::uint64_t next_check_ns = 0;
  };
  // Reads what the guard wrote; true once the pause is over (its ended event is in `out`).
  bool read_reports(Pause& p, const Clocks& c, Output& out);
  void tell_resume(Pause& p, proto::HealReason why, Output& out);
  // Waits until the guard answers or `deadline_ns` (CLOCK_MONOTONIC) passes; then the
  // pause is over either way (the agent resumes the node itself if the guard is silent).
  void await_end(Pause& p, std::uint64_t deadline_ns, const Clocks& c, Output& out);
  void end(Pause& p, proto::HealReason why, std::optional<std::uint64_t> resumed_ns, std::string error,
           const Clocks& c, Output& out);
  // The guard is gone without resuming: the agent resumes the node itself.
  void take_over(Pause& p, const Clocks& c, Output& out);
  // Whatever the guard did or did not say: if the node's process is stopped, SIGCONT through
  // the pidfd. True if it had to.
  bool resume_if_stopped(const Pause& p, Output& out);

  Guards& guards_;
  std::map<std::string, Pause> pauses_;
  std::set<std::string> ended_;
};

}  // namespace ticksplit::agent::fault
