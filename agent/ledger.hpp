// The fault table on disk: a JSON file in the agent's state directory (--state-dir, default
// /run/ticksplit) rewritten whenever the set of faults not yet over changes. The kernel ends
// a killed agent's faults on time by itself, but the agent that starts next removes the dead
// one's filters (they would drop with a map nobody updates), which ends those faults early.
// The ledger is how the new agent knows what it ended: it reports each one in its log and as
// a fault_orphaned event before removing anything. It lists pauses too, with the process each
// stopped: a guard outlives a killed agent and resumes its node on time, but a guard killed
// with it (a systemd unit's cgroup) leaves the node stopped, and the next agent resumes it. /run is a tmpfs: a reboot, which ends every
// fault anyway, empties it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/fault/engine.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"

namespace ticksplit::agent {

class Ledger {
 public:
  // `path` empty: no ledger (unit tests, a read-only host); everything is a no-op.
  explicit Ledger(std::string path) : path_(std::move(path)) {}

  // One agent per ledger: an flock on <path>.lock, held until this object goes (a killed
  // agent's goes with it). Fails if another live agent holds it.
  Status lock();
  // What a previous agent recorded, read once at start-up. A missing file is an empty ledger;
  // an unreadable or corrupt one is an error, reported by the caller, and is replaced.
  Result<std::vector<fault::Planned>> read() const;
  // Replaces the file atomically (write, fsync, rename) if `now` differs from what it holds.
  Status write(const std::vector<fault::Planned>& now);
  // A clean exit healed everything: nothing to report next time.
  void remove();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  Fd lock_;
  std::vector<fault::Planned> written_;
  bool synced_ = false;
};

}  // namespace ticksplit::agent
