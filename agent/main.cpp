// ticksplit-agent: see README.md, ARCHITECTURE.md and docs/.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "agent/agent.hpp"
#include "agent/cleanup.hpp"
#include "agent/options.hpp"
#include "agent/privileges.hpp"
#include "common/error.hpp"

int main(int argc, char** argv) {
  using namespace ticksplit;
  try {
    auto parsed = agent::parse_options(argc, argv);
    if (!parsed.options) {
      std::cout << parsed.text;
      return 0;
    }
    auto logger = spdlog::stderr_color_mt("agent");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(parsed.options->log_level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    if (parsed.options->cleanup) return agent::run_cleanup(*parsed.options, std::cout, std::cerr);
    // Before anything of the host is touched: without these the BPF map cannot be made.
    agent::privileges::require_setup();
    agent::Agent a(std::move(*parsed.options));
    return a.run();
  } catch (const ConfigError& e) {
    std::cerr << "ticksplit-agent: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "ticksplit-agent: out of memory\n";
    return 1;
  }
}
