// A report as one self-contained HTML file: inline SVG and CSS, no script, nothing fetched.
// Hover text is each mark's SVG <title>. Past max_drawn_ops operations, each client lane and the
// latency plot are aggregated into time buckets, and past max_drawn_marks node events or log
// lines, those too (per node lane), so the file stays under max_report_bytes for 100 faults,
// 7 nodes, 20 clients, 100k operations and any number of node events and log lines
// (tests/unit/ctl_report_test.cpp).
#pragma once

#include <cstddef>
#include <string>

#include "controller/report/model.hpp"

namespace ticksplit::ctl {

inline constexpr std::size_t max_drawn_ops = 10'000;   // drawn one by one up to this many
inline constexpr std::size_t max_drawn_marks = 5'000;  // of node events, and of log lines
inline constexpr std::size_t report_buckets = 600;    // time buckets per lane past it
inline constexpr std::size_t max_report_bytes = 8u << 20;

// `title`: what the page is called (the history files).
std::string report_html(const ReportModel& m, const std::string& title);

}  // namespace ticksplit::ctl
