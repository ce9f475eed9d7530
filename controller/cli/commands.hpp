// ticksplit-ctl's subcommands (README.md, "ticksplit-ctl"), each taking the arguments after its
// name and returning the exit code: 0 ran and every fault landed; 1 a fault did not land or an
// agent failed; 2 usage or schedule error (thrown: Usage, ScheduleError, ConfigError);
// 128 + signal after SIGINT/SIGTERM (every agent healed first). check (docs/check.md) talks to
// nothing: 0 valid, 1 invalid, 3 unknown, 2 usage or a malformed history.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controller/check/read.hpp"

namespace ticksplit::ctl::cli {

// plan SCHEDULE [--seed N]: the plan, offline from the schedule's nodes or from the agents.
// run SCHEDULE [--history FILE] [--seed N]: the plan, run; the history and the summary.
int plan_or_run(const std::string& cmd, const std::vector<std::string>& args);
// status | heal [--agent NODE ... | --schedule FILE]
int status_or_heal(const std::string& cmd, const std::vector<std::string>& args);
// report HISTORY... -o FILE [--format html|edn]: a self-contained HTML report or Jepsen EDN.
int report(const std::vector<std::string>& args);
// What report and run --report write (throws ConfigError if a file cannot be read or written).
// With `checked`, the operations are checked too and the anomalies marked.
void write_report(const std::vector<std::string>& histories, const std::string& out, const std::string& format,
                  const std::optional<check::PairOptions>& checked = std::nullopt);
// check HISTORY... --model MODEL [--json] [--max-ms N] [--max-mb N] [--independent] [--window-ms N]
int check(const std::vector<std::string>& args);

}  // namespace ticksplit::ctl::cli
