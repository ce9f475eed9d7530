// What a report shows, computed from a history (report/history_lines.hpp) and nothing else, so
// that `ticksplit-ctl report` on a file and `run --report` at the end of a run draw the same:
// one lane per node with each fault's drop window on the nodes it cut, the effective outage
// beyond it and the detection window after its start; node events and log lines as marks; one
// lane per client process with its operations; the faults as the summary reads them.
// Unit-tested on recorded histories (tests/unit/ctl_report_test.cpp, tests/data/report/).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controller/plan/plan.hpp"
#include "controller/report/history_lines.hpp"
#include "controller/run/runner.hpp"

namespace ticksplit::ctl {

struct ReportModel {
  nlohmann::json run = nlohmann::json::object();  // what the run_start lines say (the first to name a field)
  ClusterInfo cluster;                             // nodes, T (0: unknown) and I
  std::optional<TickWindow> window;                // from T and I, or a workload's window_ms
  std::int64_t from_us = 0, to_us = 0;             // the time axis: run_start (or the first line) to the last line
  std::vector<std::string> lanes;                  // nodes: run_start's, then any other that saw or was seen

  std::vector<FaultOutcome> faults;  // each fault with the node events after its start (as the summary reads them)

  struct Band {
    enum class Kind { drop, outage, detection };
    Kind kind = Kind::drop;
    std::size_t fault = 0;  // index in faults (numbers repeat when histories of several runs merge)
    std::string lane;  // "" for every lane (the detection window)
    std::int64_t from_us = 0, to_us = 0;
    std::string title;
  };
  std::vector<Band> bands;

  struct Mark {
    std::int64_t time_us = 0;
    std::string lane;
    std::string kind;  // nodedown, nodeup, log
    std::string css;   // the class it is drawn with: the reason, cascade, hidden, late; the log level
    std::string title;
  };
  std::vector<Mark> marks;

  struct Op {
    std::int64_t process = 0;
    std::int64_t from_us = 0, to_us = 0;  // invoke to completion (an open one: to the end of the axis)
    std::string type;                      // ok, fail, info (an invoke never completed counts as info)
    std::string title;
  };
  std::vector<Op> ops;
  std::vector<std::int64_t> processes;  // the client lanes, in order

  // What `ticksplit-ctl check` found, when the report was asked for a model (anomalies.hpp).
  struct Anomaly {
    std::int64_t process = 0;
    std::int64_t from_us = 0, to_us = 0;  // the operation it is about
    std::vector<int> faults;              // the faults it names, by number
    std::string title;
  };
  std::vector<Anomaly> anomalies;

  std::vector<std::string> notes;  // what the reader left out, faults without an end
};

ReportModel build_model(const HistoryLines& history);

}  // namespace ticksplit::ctl
