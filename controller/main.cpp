// ticksplit-ctl: runs partition schedules against ticksplit agents (README.md, "ticksplit-ctl").
// The subcommands are in cli/ (commands.hpp lists them with their exit codes); here, only which
// one runs and what an error thrown out of it exits with.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "controller/check/read.hpp"
#include "controller/cli/commands.hpp"
#include "controller/cli/options.hpp"
#include "controller/schedule/schedule.hpp"
#include "controller/version.hpp"

using namespace ticksplit;
using namespace ticksplit::ctl;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
      std::cout << cli::usage;
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
      std::cout << "ticksplit-ctl " << version << "\n";
      return 0;
    }
    const std::string cmd = args[0];
    args.erase(args.begin());
    if (cmd == "run" || cmd == "plan") return cli::plan_or_run(cmd, args);
    if (cmd == "status" || cmd == "heal") return cli::status_or_heal(cmd, args);
    if (cmd == "check") return cli::check(args);
    if (cmd == "report") return cli::report(args);
    throw cli::Usage("unknown command '" + cmd + "'\n" + cli::usage);
  } catch (const ScheduleError& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  } catch (const cli::Usage& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  } catch (const check::ParseError& e) {
    std::fprintf(stderr, "ticksplit-ctl: %s\n", e.what());
    return 2;
  }
}
