// The agent's capabilities: what it must hold to set up (CAP_NET_ADMIN, CAP_BPF) and what it
// keeps once its map, programs and filters are in place (docs/kernel.md, "Privileges"). Raw
// capget/capset/prctl: five sets of one 64-bit mask each need no library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace ticksplit::agent::privileges {

// Bit n stands for capability n (<linux/capability.h>); capabilities stop at 63 in this form.
using CapSet = std::uint64_t;

inline constexpr CapSet cap(int n) { return n >= 0 && n < 64 ? CapSet{1} << n : 0; }

// The numbers, so the pure part needs no kernel header.
inline constexpr int cap_kill = 5;
inline constexpr int cap_setpcap = 8;
inline constexpr int cap_net_admin = 12;
inline constexpr int cap_sys_admin = 21;
inline constexpr int cap_sys_nice = 23;
inline constexpr int cap_bpf = 39;

struct Sets {
  CapSet effective = 0;
  CapSet permitted = 0;
  CapSet inheritable = 0;
  CapSet ambient = 0;
  CapSet bounding = 0;
};

// "cap_net_admin" as capsh names it; "cap_N" for a number this table does not know.
std::string name(int n);
// "cap_net_admin,cap_kill" in capability order; "none" for the empty set.
std::string names(CapSet set);

// What start-up lacks in the effective set: {"CAP_NET_ADMIN", "CAP_BPF"}, one, or none.
// CAP_SYS_ADMIN allows bpf() as CAP_BPF does (and is the only way on kernels before 5.8).
std::vector<std::string> missing_for_setup(CapSet effective);
// True when CAP_SYS_ADMIN stands in for a missing CAP_BPF.
bool sys_admin_for_bpf(CapSet effective);

// Whether map updates through a held fd still need CAP_BPF (or CAP_SYS_ADMIN): before Linux
// 5.19 bpf() refused every command, map updates included, to a caller without them while
// kernel.unprivileged_bpf_disabled is set (5.19 moved that check into map and program
// creation). `release` is uname's ("6.1.0-18-amd64"); one that does not parse counts as old.
bool map_updates_need_capability(const std::string& release, int unprivileged_bpf_disabled);
// The same for this kernel: uname and /proc/sys/kernel/unprivileged_bpf_disabled (unreadable
// counts as set).
bool map_updates_need_capability();

// What the agent keeps after set-up, of what it holds: CAP_NET_ADMIN (removing its filters at
// exit), and CAP_KILL and CAP_SYS_NICE if permitted (its pause and kill guards, exec'd, signal
// nodes of other users and ask for SCHED_FIFO); with `keep_bpf`, also what let it use bpf()
// (CAP_BPF, else CAP_SYS_ADMIN standing in), for a kernel whose map updates need it.
CapSet to_keep(CapSet permitted, bool keep_bpf = false);

// The sets after the drop, from the sets before. Effective and permitted become `to_keep`;
// inheritable and ambient keep only kept capabilities they had (a non-root agent's guards get
// theirs through ambient); the bounding set shrinks to the kept set when CAP_SETPCAP is
// effective (a root agent's guards get the bounding set at exec), else stays.
Sets after_drop(const Sets& before, bool keep_bpf = false);

// What this process holds now (capget, PR_CAP_AMBIENT_IS_SET, PR_CAPBSET_READ).
Result<Sets> current();

// Throws ConfigError naming each missing capability; a warning if CAP_SYS_ADMIN stands in.
void require_setup();

// Drops every capability the agent no longer needs (after_drop, keeping bpf()'s capability where
// map_updates_need_capability()), bounding set first (it needs CAP_SETPCAP, dropped last with
// the rest), and returns the sets it now holds.
Result<Sets> drop_unneeded();

}  // namespace ticksplit::agent::privileges
