// The drop classifier: for each packet, look up (peer address, direction) in the drop map
// and return TC_ACT_SHOT while the entry's window is open (with the entry's probability: a
// lossy window draws bpf_get_prandom_u32() per packet), counting what it drops and what the
// draw spared. Outside
// any window it returns TC_ACT_UNSPEC, leaving the packet to whatever else is configured.
#pragma once

#include <linux/bpf.h>

#include <vector>

namespace ticksplit::agent::bpf {

enum class Hook { ingress, egress };

// The instructions for one hook, bound to the drop map `map_fd`.
std::vector<bpf_insn> drop_program(Hook hook, int map_fd);

}  // namespace ticksplit::agent::bpf
