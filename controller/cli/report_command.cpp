// report: histories → one self-contained HTML report, or a Jepsen EDN history. Reads files
// only; talks to nothing.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/error.hpp"
#include "controller/cli/commands.hpp"
#include "controller/cli/options.hpp"
#include "controller/check/check.hpp"
#include "controller/check/read.hpp"
#include "controller/report/anomalies.hpp"
#include "controller/report/edn.hpp"
#include "controller/report/history_lines.hpp"
#include "controller/report/html.hpp"
#include "controller/report/model.hpp"

namespace ticksplit::ctl::cli {

void write_report(const std::vector<std::string>& histories, const std::string& out, const std::string& format,
                  const std::optional<check::PairOptions>& checked) {
  const auto history = read_history_lines(histories);
  for (const auto& p : history.problems) std::fprintf(stderr, "ticksplit-ctl: report: %s\n", p.c_str());
  std::string text;
  if (format == "edn") {
    text = history_edn(history);
  } else {
    std::string title;
    for (const auto& h : histories) title += (title.empty() ? "" : ", ") + h;
    auto model = build_model(history);
    if (checked) {  // what `ticksplit-ctl check` finds, on the operations' lanes
      const auto ops = check::read_history(histories, *checked);
      check::CheckOptions o;
      o.model = checked->model;
      const auto report = check::check(ops, o);
      add_anomalies(model, report, ops);
      std::cout << "check: " << check::verdict_name(report.verdict) << ", " << model.anomalies.size()
                << " anomal" << (model.anomalies.size() == 1 ? "y" : "ies") << " on the report\n";
    }
    text = report_html(model, title);
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f || !f.write(text.data(), static_cast<std::streamsize>(text.size())) || !f.flush())
    throw ConfigError("cannot write the report " + out);
  std::cout << "report: " << out << " (" << text.size() << " bytes)\n";
}

int report(const std::vector<std::string>& args) {
  po::options_description d("options");
  d.add_options()("history", po::value<std::vector<std::string>>(), "history files (JSON Lines), merged by time_us")(
      "output,o", po::value<std::string>(), "where to write the report")(
      "format", po::value<std::string>()->default_value("html"),
      "html (one self-contained file) or edn (the history as Jepsen writes one)")(
      "model", po::value<std::string>(),
      "also check the operations (as ticksplit-ctl check --model) and mark the anomalies with the faults they name")(
      "independent", po::bool_switch(), "with --model: values are Jepsen's [key value] tuples");
  po::positional_options_description pos;
  pos.add("history", -1);
  auto vm = parse("report", d, &pos, args);
  if (!vm.count("history")) throw Usage("report: at least one history file is required");
  if (!vm.count("output")) throw Usage("report: -o FILE is required");
  const auto format = vm["format"].as<std::string>();
  if (format != "html" && format != "edn") throw Usage("report: --format is html or edn, not '" + format + "'");
  std::optional<check::PairOptions> checked;
  if (vm.count("model")) {
    const auto model = check::model_from(vm["model"].as<std::string>());
    if (!model) throw Usage("report: unknown model '" + vm["model"].as<std::string>() + "'");
    checked = check::PairOptions{*model, vm["independent"].as<bool>()};
  }
  write_report(vm["history"].as<std::vector<std::string>>(), vm["output"].as<std::string>(), format, checked);
  return 0;
}

}  // namespace ticksplit::ctl::cli
