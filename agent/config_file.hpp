// --config FILE: the agent's options as `key = value` lines (agent.conf), read with
// boost::program_options' config-file syntax: the keys are the long option names, a repeatable
// option's key may repeat, `#` starts a comment (anywhere on a line: a value cannot hold one).
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace ticksplit::agent {

// Stores FILE's settings into `vm` under what is already there: a single-valued option given
// on the command line (stored first) keeps that value, a repeatable one (declared composing)
// gets the file's values after the command line's. Throws ConfigError naming the file for an
// unreadable file, an unknown key, a bad value, or a key that only makes sense on the command
// line (help, version, config).
void store_config_file(const std::string& path, const boost::program_options::options_description& desc,
                       boost::program_options::variables_map& vm);

}  // namespace ticksplit::agent
