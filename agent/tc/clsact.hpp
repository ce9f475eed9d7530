// The clsact qdisc (ingress and egress hooks for classifiers without replacing the root
// qdisc) and the agent's cls_bpf filters on it.
#pragma once

#include "agent/bpf/program.hpp"
#include "agent/tc/netlink.hpp"
#include "common/error.hpp"

namespace ticksplit::agent::tc {

// The agent's filters are recognisable by this priority and handle (and their name), so a
// restarted agent can find and remove what a killed one left.
inline constexpr std::uint16_t filter_priority = 0xc0de;
inline constexpr std::uint32_t filter_handle = 0x7453;  // "tS"
inline constexpr const char* filter_name = "ticksplit_drop";

// Adds clsact to the interface. Returns true if this call created it, false if it was
// there already (someone else's: leave it when we go).
Result<bool> add_clsact(Netlink& nl, int ifindex);
// Removing a clsact that is already gone is success.
Status remove_clsact(Netlink& nl, int ifindex);

// Attaches the program in direct-action mode on the hook; replaces an earlier one of ours.
Status attach_filter(Netlink& nl, int ifindex, bpf::Hook hook, int prog_fd);
// Removes our filter from the hook: true if there was one, false if it was gone already.
Result<bool> detach_filter(Netlink& nl, int ifindex, bpf::Hook hook);
// How many filters (anyone's, counted by priority) the hook holds.
Result<int> count_filters(Netlink& nl, int ifindex, bpf::Hook hook);

}  // namespace ticksplit::agent::tc
