// Where the agent finds its helper executables (ticksplit-pause-guard, ticksplit-kill-guard):
// next to its own executable, as in the build tree (build/agent/, where the tests run them),
// then in the installed libexec directory, found from the agent's own location through the
// relative path bindir -> libexecdir/ticksplit that CMake computed (agent/install_paths.hpp.in),
// so an install moved as a whole (cmake --install --prefix, a package) still finds them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ticksplit::agent {

// The places looked at, in order, for helper `name` given the agent's executable `self_exe`
// (absolute): its directory, then that directory joined with `libexec_from_bin`, normalised.
std::vector<std::string> helper_candidates(std::string_view self_exe, std::string_view libexec_from_bin,
                                           std::string_view name);

// The first candidate that is executable, for the running agent (/proc/self/exe). If none is,
// the first one: launching it then fails, and the refusal names the place where the build
// puts it.
std::string helper_path(std::string_view name);

}  // namespace ticksplit::agent
