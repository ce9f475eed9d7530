// report: histories → one self-contained HTML report, or a Jepsen EDN history. Reads files
// only; talks to nothing.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/error.hpp"
#include "controller/cli/commands.hpp"
#include "controller/cli/options.hpp"
#include "controller/report/edn.hpp"
#include "controller/report/history_lines.hpp"
#include "controller/report/html.hpp"
#include "controller/report/model.hpp"

namespace ticksplit::ctl::cli {

void write_report(const std::vector<std::string>& histories, const std::string& out, const std::string& format) {
  const auto history = read_history_lines(histories);
  for (const auto& p : history.problems) std::fprintf(stderr, "ticksplit-ctl: report: %s\n", p.c_str());
  std::string text;
  if (format == "edn") {
    text = history_edn(history);
  } else {
    std::string title;
    for (const auto& h : histories) title += (title.empty() ? "" : ", ") + h;
    text = report_html(build_model(history), title);
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
      "html (one self-contained file) or edn (the history as Jepsen writes one)");
  po::positional_options_description pos;
  pos.add("history", -1);
  auto vm = parse("report", d, &pos, args);
  if (!vm.count("history")) throw Usage("report: at least one history file is required");
  if (!vm.count("output")) throw Usage("report: -o FILE is required");
  const auto format = vm["format"].as<std::string>();
  if (format != "html" && format != "edn") throw Usage("report: --format is html or edn, not '" + format + "'");
  write_report(vm["history"].as<std::vector<std::string>>(), vm["output"].as<std::string>(), format);
  return 0;
}

}  // namespace ticksplit::ctl::cli
