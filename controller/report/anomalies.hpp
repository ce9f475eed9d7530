// The anomalies `ticksplit-ctl check` finds, put on a report: each on the lane of the client
// process whose operation it is about, from invoke to completion, with its text and the faults
// it names (active, or healed within the detection window before it: check/attribute.hpp).
#pragma once

#include "controller/check/operation.hpp"
#include "controller/check/report.hpp"
#include "controller/report/model.hpp"

namespace ticksplit::ctl {

void add_anomalies(ReportModel& m, const check::Report& r, const check::History& h);

}  // namespace ticksplit::ctl
