#include "agent/helper_path.hpp"

#include <unistd.h>

#include <climits>
#include <filesystem>

#include "agent/install_paths.hpp"

namespace ticksplit::agent {

std::vector<std::string> helper_candidates(std::string_view self_exe, std::string_view libexec_from_bin,
                                           std::string_view name) {
  const std::filesystem::path dir = std::filesystem::path(self_exe).parent_path();
  return {(dir / name).lexically_normal().string(), (dir / libexec_from_bin / name).lexically_normal().string()};
}

std::string helper_path(std::string_view name) {
  char self[PATH_MAX];
  const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return std::string(name);  // no /proc: spawning it fails and says so
  const auto candidates =
      helper_candidates(std::string_view(self, static_cast<std::size_t>(n)), install::libexec_from_bin, name);
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return candidates.front();
}

}  // namespace ticksplit::agent
