// Reading the Erlang cookie from a file, with Erlang's own permission rule.
#pragma once

#include <string>

namespace ticksplit {

// Throws ConfigError if the file is missing, empty, or readable by group or others (as
// Erlang refuses such a file too). Trailing whitespace is not part of the cookie.
std::string read_cookie_file(const std::string& path);

// ~/.erlang.cookie of the user running the agent.
std::string default_cookie_path();

}  // namespace ticksplit
