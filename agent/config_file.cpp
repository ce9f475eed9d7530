#include "agent/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/error.hpp"

namespace po = boost::program_options;

namespace ticksplit::agent {

void store_config_file(const std::string& path, const po::options_description& desc, po::variables_map& vm) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--config " + path + ": cannot read it: " + std::strerror(errno));
  try {
    // Unknown keys are errors (allow_unregistered = false): a misspelt key must not be ignored.
    const auto parsed = po::parse_config_file(in, desc, false);
    for (const auto& o : parsed.options)
      // cleanup too: in the unit's file it would turn the agent's ExecStart into a cleanup run.
      if (o.string_key == "help" || o.string_key == "version" || o.string_key == "config" || o.string_key == "cleanup")
        throw ConfigError("--config " + path + ": '" + o.string_key + "' is a command-line option only");
    po::store(parsed, vm);
  } catch (const po::error& e) {
    throw ConfigError("--config " + path + ": " + e.what());
  }
  if (in.bad()) throw ConfigError("--config " + path + ": read error: " + std::strerror(errno));
}

}  // namespace ticksplit::agent
