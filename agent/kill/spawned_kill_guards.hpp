// The real kill guards (agent/fault/kills.hpp): a ticksplit-kill-guard process per kill,
// spawned detached (agent/kill/guard.hpp), talked to through two pipes.
#pragma once

#include <string>
#include <vector>

#include "agent/fault/kills.hpp"

namespace ticksplit::agent::kill {

class SpawnedKillGuards final : public fault::KillGuards {
 public:
  // `guard_path`: the executable (absolute). Its absence refuses every kill (cannot_kill).
  explicit SpawnedKillGuards(std::string guard_path) : path_(std::move(guard_path)) {}
  ~SpawnedKillGuards() override;

  Result<Handle> launch(int pidfd, pid_t pid, std::uint64_t kill_ns, std::uint64_t restart_ns,
                        const std::string& command) override;
  void reap(pid_t pid) override;

 private:
  std::string path_;
  std::vector<pid_t> exiting_;
};

// ticksplit-kill-guard next to the running agent, else in the install's libexec (agent/helper_path.hpp).
std::string default_kill_guard_path();

}  // namespace ticksplit::agent::kill
