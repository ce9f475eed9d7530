// A history as Jepsen writes one (docs/history.md, "As Jepsen EDN"): one op map per line, in
// time order, `:time` in ns since run_start (or the first line) and a dense `:index`. Client
// operations are Jepsen ops (`:value [key value]` when the op has a key, as jepsen.independent
// writes them); each fault is nemesis ops, an `:info` invoke and an `:info` completion of
// `:start-partition` at its start and of `:stop-partition` at its end; node events and log
// lines are nemesis ops too (`:nodeup`, `:nodedown`, `:node-joined`, `:node-lost`, `:log`), each
// also an invoke and a completion, so that Jepsen's pairing by process stays whole.
#pragma once

#include <string>

#include "controller/report/history_lines.hpp"

namespace ticksplit::ctl {

std::string history_edn(const HistoryLines& history);

}  // namespace ticksplit::ctl
