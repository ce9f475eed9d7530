#include "controller/report/anomalies.hpp"

namespace ticksplit::ctl {

void add_anomalies(ReportModel& m, const check::Report& r, const check::History& h) {
  for (const auto& key : r.keys)
    for (std::size_t i = 0; i < key.result.anomalies.size(); ++i) {
      const auto& a = key.result.anomalies[i];
      if (a.ops.empty() || a.ops.front() >= h.ops.size()) continue;
      const auto& op = h.ops[a.ops.front()];
      ReportModel::Anomaly mark;
      mark.process = op.process;
      mark.from_us = op.call_us;
      mark.to_us = op.return_us == check::kNever ? m.to_us : op.return_us;
      mark.title = a.type + (key.result.key ? " (key " + key.result.key->dump() + ")" : "") + ": " + a.detail;
      if (i < key.attributions.size())
        for (const auto& link : key.attributions[i].faults) {
          if (link.fault >= h.faults.size()) continue;
          const auto& f = h.faults[link.fault];
          mark.faults.push_back(static_cast<int>(f.number));
          mark.title += "; fault " + std::to_string(f.number) + " (" + f.shape + ", " + f.window_class + ") " +
                        check::relation_name(link.relation);
        }
      m.anomalies.push_back(std::move(mark));
    }
}

}  // namespace ticksplit::ctl
