// The real guards of pauses (agent/fault/pauses.hpp): a ticksplit-pause-guard process per
// pause, spawned detached (agent/pause/guard.hpp), talked to through two pipes.
#pragma once

#include <string>
#include <vector>

#include "agent/fault/pauses.hpp"

namespace ticksplit::agent::pause {

class SpawnedGuards final : public fault::Guards {
 public:
  // `guard_path`: the executable (absolute). Its absence is not an error here: every pause is
  // then refused (cannot_pause), saying so.
  explicit SpawnedGuards(std::string guard_path) : path_(std::move(guard_path)) {}
  ~SpawnedGuards() override;

  Result<Handle> launch(int pidfd, pid_t pid, std::uint64_t start_ns, std::uint64_t end_ns) override;
  void reap(pid_t pid) override;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::vector<pid_t> exiting_;  // reported their end but not yet reaped
};

// ticksplit-pause-guard next to the running agent, else in the install's libexec (agent/helper_path.hpp).
std::string default_guard_path();

}  // namespace ticksplit::agent::pause
