// ticksplit-agent --cleanup: what a killed agent left in this network namespace (its cls_bpf
// filters, and the clsact qdiscs they leave empty) removed by a process that joins no node, for
// systemd's ExecStopPost and for operators. A live agent's filters are its own: refused then.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "agent/options.hpp"

namespace ticksplit::agent {

// Removes our filters (tc::filter_priority, tc::filter_handle) from both clsact hooks of every
// interface (all links, loopback and down ones too) or of `interfaces`, and a clsact qdisc
// only where it removed one of ours and no other filter remains on either hook. One line per
// thing removed or left on `out`, then a summary. Returns 0 (also when there was nothing), 1
// if a removal failed; throws ConfigError (exit 2) without CAP_NET_ADMIN or while an agent
// holds this namespace (agent/instance_lock.hpp). Then, if `o.name` is set and its ledger is in
// `o.state_dir`, it ends the pauses that agent left (agent/pause/left.hpp): a node a killed
// agent's killed guard left stopped is resumed. The ledger stays for the next agent to report.
int run_cleanup(const Options& o, std::ostream& out, std::ostream& err);

}  // namespace ticksplit::agent
