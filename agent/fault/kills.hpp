// kill_node faults: a local node's OS process SIGKILLed at an instant and, if asked, started
// again some time later with the agent's --node-start command for it (docs/faults.md). The
// kill, the wait for the exit and the restart are done by a guard, a process of its own per
// kill, detached from the agent (agent/kill/guard.hpp): the restart does not depend on the
// agent, which may be killed in between. This class starts the guards, tells them to end early
// (heal: cancel before the kill, restart at once after it) and reads what they report, on the
// fault engine's thread. Typed events and refusals (common/proto/fault.hpp), no terms, no log.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "agent/fault/backend.hpp"
#include "agent/fault/pauses.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::agent::fault {

struct Output;

// The seam: the real one spawns ticksplit-kill-guard; unit tests play the guard through the pipes.
class KillGuards {
 public:
  struct Handle {
    Fd report;   // read end: the guard's lines
    Fd control;  // write end: "end\n" ends the fault early
    pid_t pid = 0;
  };
  KillGuards() = default;
  KillGuards(const KillGuards&) = delete;
  KillGuards& operator=(const KillGuards&) = delete;
  virtual ~KillGuards() = default;
  // A guard that SIGKILLs `pid` (through `pidfd`) at kill_ns and, if restart_ns is not 0,
  // runs `command` at restart_ns once the process has exited (CLOCK_MONOTONIC).
  virtual Result<Handle> launch(int pidfd, pid_t pid, std::uint64_t kill_ns, std::uint64_t restart_ns,
                                const std::string& command) = 0;
  virtual void reap(pid_t pid) = 0;
};

struct KillSpec {
  std::optional<std::string> id;
  std::string owner;  // the node that asked
  std::string node;   // the node to kill: one this agent joins
  NodeProcess process;
  std::optional<std::int64_t> start_at_us;       // unix; absent: now
  std::optional<std::int64_t> restart_after_ms;  // absent: the host's supervisor restarts it
};

class Kills {
 public:
  static constexpr std::uint64_t report_poll_ns = 2'000'000;
  static constexpr std::uint64_t first_check_ns = 50'000'000;
  static constexpr std::uint64_t guard_silence_ns = 1'000'000'000;
  static constexpr std::size_t max_kills = 64;

  // `commands`: node → its --node-start command.
  Kills(KillGuards& guards, std::map<std::string, std::string> commands)
      : guards_(guards), commands_(std::move(commands)) {}

  // The kill's id (spec.id, given by the engine), or why it was refused. `max_fault_ms`
  // bounds restart_after_ms and how far ahead the kill may be.
  std::variant<std::string, proto::Refusal> apply(const KillSpec& spec, const Clocks& c, std::int64_t max_fault_ms);
  [[nodiscard]] bool has(const std::string& id) const { return kills_.count(id) != 0; }
  [[nodiscard]] bool ended(const std::string& id) const { return ended_.count(id) != 0; }
  // Tells the guard to end now (before the kill: cancel; after it: start the node at once);
  // waits for its last word on the engine's thread, 100 ms at most for one heal_where.
  void heal(const std::string& id, proto::HealReason why, const Clocks& c, Output& out);
  std::size_t heal_where(const std::function<bool(const std::string& owner)>& which, proto::HealReason why,
                         const Clocks& c, Output& out);

  void tick(const Clocks& c, Output& out);
  [[nodiscard]] std::optional<std::uint64_t> next_due_ns() const;
  [[nodiscard]] std::vector<proto::KillStatus> status(const Clocks& c) const;
  [[nodiscard]] std::size_t size() const { return kills_.size(); }

 private:
  struct Kill {
    std::string id, owner, node;
    NodeProcess process;
    std::uint64_t kill_ns = 0;
    std::optional<std::uint64_t> restart_ns;
    std::int64_t kill_us = 0;
    std::optional<std::int64_t> restart_us;
    KillGuards::Handle guard;
    std::string pending;
    std::optional<std::uint64_t> killed_ns, exited_ns;
    std::optional<proto::HealReason> asked;
    std::uint64_t next_check_ns = 0;
  };
  bool read_reports(Kill& k, const Clocks& c, Output& out);
  void await_end(Kill& k, std::uint64_t deadline_ns, const Clocks& c, Output& out);
  void tell_end(Kill& k, proto::HealReason why, Output& out);
  void killed_event(const Kill& k, const Clocks& c, Output& out) const;
  void end(Kill& k, proto::HealReason why, std::optional<std::uint64_t> started_ns, std::optional<std::int64_t> pid,
           std::string error, const Clocks& c, Output& out);
  // The guard is gone without its last word: the agent starts the node itself if it was
  // killed, has exited, and a restart was planned.
  void take_over(Kill& k, const Clocks& c, Output& out);

  KillGuards& guards_;
  std::map<std::string, std::string> commands_;
  std::map<std::string, Kill> kills_;
  std::set<std::string> ended_;
};

}  // namespace ticksplit::agent::fault
