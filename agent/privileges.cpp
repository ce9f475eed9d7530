#include "agent/privileges.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <fstream>

namespace ticksplit::agent::privileges {
namespace {

// capsh's names, by number (<linux/capability.h>, up to CAP_CHECKPOINT_RESTORE = 40).
constexpr std::array<const char*, 41> kNames = {"cap_chown",
                                                "cap_dac_override",
                                                "cap_dac_read_search",
                                                "cap_fowner",
                                                "cap_fsetid",
                                                "cap_kill",
                                                "cap_setgid",
                                                "cap_setuid",
                                                "cap_setpcap",
                                                "cap_linux_immutable",
                                                "cap_net_bind_service",
                                                "cap_net_broadcast",
                                                "cap_net_admin",
                                                "cap_net_raw",
                                                "cap_ipc_lock",
                                                "cap_ipc_owner",
                                                "cap_sys_module",
                                                "cap_sys_rawio",
                                                "cap_sys_chroot",
                                                "cap_sys_ptrace",
                                                "cap_sys_pacct",
                                                "cap_sys_admin",
                                                "cap_sys_boot",
                                                "cap_sys_nice",
                                                "cap_sys_resource",
                                                "cap_sys_time",
                                                "cap_sys_tty_config",
                                                "cap_mknod",
                                                "cap_lease",
                                                "cap_audit_write",
                                                "cap_audit_control",
                                                "cap_setfcap",
                                                "cap_mac_override",
                                                "cap_mac_admin",
                                                "cap_syslog",
                                                "cap_wake_alarm",
                                                "cap_block_suspend",
                                                "cap_audit_read",
                                                "cap_perfmon",
                                                "cap_bpf",
                                                "cap_checkpoint_restore"};

bool has(CapSet set, int n) { return (set & cap(n)) != 0; }

// The kernel's two 32-bit words per set (_LINUX_CAPABILITY_VERSION_3) ↔ one mask.
using CapData = std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3>;

CapSet join(std::uint32_t low, std::uint32_t high) { return CapSet{low} | (CapSet{high} << 32); }

}  // namespace

std::string name(int n) {
  if (n >= 0 && n < static_cast<int>(kNames.size())) return kNames[static_cast<std::size_t>(n)];
  return "cap_" + std::to_string(n);
}

std::string names(CapSet set) {
  std::string out;
  for (int n = 0; n < 64; ++n)
    if (has(set, n)) out += (out.empty() ? "" : ",") + name(n);
  return out.empty() ? "none" : out;
}

bool sys_admin_for_bpf(CapSet effective) { return !has(effective, cap_bpf) && has(effective, cap_sys_admin); }

std::vector<std::string> missing_for_setup(CapSet effective) {
  std::vector<std::string> out;
  if (!has(effective, cap_net_admin)) out.emplace_back("CAP_NET_ADMIN");
  if (!has(effective, cap_bpf) && !has(effective, cap_sys_admin)) out.emplace_back("CAP_BPF");
  return out;
}

bool map_updates_need_capability(const std::string& release, int unprivileged_bpf_disabled) {
  if (unprivileged_bpf_disabled == 0) return false;
  unsigned major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%u.%u", &major, &minor) != 2) return true;
  return major < 5 || (major == 5 && minor < 19);
}

bool map_updates_need_capability() {
  utsname u{};
  if (::uname(&u) != 0) return true;
  int disabled = 1;
  if (std::ifstream in("/proc/sys/kernel/unprivileged_bpf_disabled"); !(in >> disabled)) disabled = 1;
  return map_updates_need_capability(u.release, disabled);
}

CapSet to_keep(CapSet permitted, bool keep_bpf) {
  CapSet keep = cap(cap_net_admin) | (permitted & (cap(cap_kill) | cap(cap_sys_nice)));
  if (keep_bpf) keep |= has(permitted, cap_bpf) ? cap(cap_bpf) : (permitted & cap(cap_sys_admin));
  return keep;
}

Sets after_drop(const Sets& before, bool keep_bpf) {
  const CapSet keep = to_keep(before.permitted, keep_bpf) & before.permitted;
  Sets after;
  after.effective = keep;
  after.permitted = keep;
  after.inheritable = before.inheritable & keep;
  after.ambient = before.ambient & keep;
  after.bounding = has(before.effective, cap_setpcap) ? before.bounding & keep : before.bounding;
  return after;
}

Result<Sets> current() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  CapData data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return system_error("capget", errno);
  Sets s;
  s.effective = join(data[0].effective, data[1].effective);
  s.permitted = join(data[0].permitted, data[1].permitted);
  s.inheritable = join(data[0].inheritable, data[1].inheritable);
  // Past the kernel's last capability both prctls fail with EINVAL: that ends the sets.
  for (int n = 0; n < 64; ++n) {
    const int in_bounding = ::prctl(PR_CAPBSET_READ, n, 0, 0, 0);
    if (in_bounding < 0) break;
    if (in_bounding == 1) s.bounding |= cap(n);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, n, 0, 0) == 1) s.ambient |= cap(n);
  }
  return s;
}

void require_setup() {
  auto now = current();
  if (!now) throw ConfigError(now.error().message + "; cannot tell which capabilities the agent holds");
  const auto missing = missing_for_setup(now->effective);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : " and ") + m;
    throw ConfigError("missing " + list +
                      ": the agent needs CAP_NET_ADMIN and CAP_BPF (or root) to create its BPF drop map, load "
                      "its programs and attach its filters (docs/kernel.md, Privileges); it holds " +
                      names(now->effective));
  }
  if (sys_admin_for_bpf(now->effective))
    spdlog::warn("no CAP_BPF: CAP_SYS_ADMIN stands in for it (give CAP_BPF instead; both are dropped after set-up)");
}

Result<Sets> drop_unneeded() {
  auto before = current();
  if (!before) return before.error();
  const Sets want = after_drop(*before, map_updates_need_capability());
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the capset below removes.
  for (int n = 0; n < 64; ++n)
    if (has(before->bounding, n) && !has(want.bounding, n) && ::prctl(PR_CAPBSET_DROP, n, 0, 0, 0) != 0)
      return system_error("dropping " + name(n) + " from the bounding set", errno);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  CapData data{};
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i].effective = static_cast<std::uint32_t>(want.effective >> (32 * i));
    data[i].permitted = static_cast<std::uint32_t>(want.permitted >> (32 * i));
    data[i].inheritable = static_cast<std::uint32_t>(want.inheritable >> (32 * i));
  }
  // capset changes this thread only: the agent calls this before it starts any thread.
  if (::syscall(SYS_capset, &header, data.data()) != 0) return system_error("capset", errno);
  // The kernel clears an ambient capability that leaves permitted or inheritable; a kept one
  // stays, and raising it again is harmless: the guards exec'd by a non-root agent get it.
  for (int n = 0; n < 64; ++n)
    if (has(want.ambient, n) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) != 0)
      return system_error("keeping " + name(n) + " in the ambient set", errno);
  return current();
}

}  // namespace ticksplit::agent::privileges
