// check: histories → operations → verdicts, anomalies attributed to faults (docs/check.md).
// Never connects to anything.
#include <iostream>

#include "controller/check/check.hpp"
#include "controller/check/read.hpp"
#include "controller/check/report.hpp"
#include "controller/cli/commands.hpp"
#include "controller/cli/options.hpp"

namespace ticksplit::ctl::cli {

namespace chk = ticksplit::check;

namespace {

std::int64_t bounded(const po::variables_map& vm, const char* name, std::int64_t least, std::int64_t most) {
  const auto v = vm[name].as<std::int64_t>();
  if (v < least || v > most)
    throw Usage(std::string("check: --") + name + " must be " + std::to_string(least) + ".." + std::to_string(most));
  return v;
}

}  // namespace

// Reads, pairs and checks the histories; never connects to anything.
int check(const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("history", po::value<std::vector<std::string>>(),
                  "history files (ticksplit JSON Lines or Jepsen EDN), merged by time_us")(
      "model", po::value<std::string>(), "register, cas-register, kv, set, queue or counter")(
      "json", po::bool_switch(), "print one JSON document (docs/check.md) instead of the text report")(
      "max-ms", po::value<std::int64_t>()->default_value(60'000),
      "time budget of the whole check; a key whose search exceeds it is unknown")(
      "max-mb", po::value<std::int64_t>()->default_value(1024), "memory budget of one key's linearizability search")(
      "independent", po::bool_switch(), "values are Jepsen's [key value] tuples: check each key alone")(
      "window-ms", po::value<std::int64_t>(),
      "detection window for attributing anomalies to faults healed before them (default: run_start's window_ms)");
  po::positional_options_description pos;
  pos.add("history", -1);
  auto vm = parse("check", d, &pos, args);
  if (!vm.count("history")) throw Usage("check: at least one history file is required");
  if (!vm.count("model")) throw Usage("check: --model is required (register, cas-register, kv, set, queue, counter)");
  const auto model = chk::model_from(vm["model"].as<std::string>());
  if (!model)
    throw Usage("check: unknown model '" + vm["model"].as<std::string>() +
                "' (register, cas-register, kv, set, queue, counter)");
  chk::CheckOptions o;
  o.model = *model;
  constexpr std::int64_t kMaxBudget = std::int64_t{1} << 40;  // ms or MB: past any real machine
  o.budget.max_ms = bounded(vm, "max-ms", 1, kMaxBudget);
  o.budget.max_mb = bounded(vm, "max-mb", 1, kMaxBudget);
  if (vm.count("window-ms")) o.window_ms = bounded(vm, "window-ms", 0, chk::kMaxWindowMs);
  const auto history =
      chk::read_history(vm["history"].as<std::vector<std::string>>(), {*model, vm["independent"].as<bool>()});
  const auto report = chk::check(history, o);
  if (vm["json"].as<bool>())
    std::cout << chk::report_json(report, history).dump(2) << "\n";
  else
    std::cout << chk::report_text(report, history);
  return report.verdict == chk::Verdict::valid ? 0 : report.verdict == chk::Verdict::invalid ? 1 : 3;
}

}  // namespace ticksplit::ctl::cli
