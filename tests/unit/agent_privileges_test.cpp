#include <doctest/doctest.h>

#include <linux/capability.h>

#include "agent/privileges.hpp"

using namespace ticksplit::agent::privileges;

namespace {
constexpr CapSet net_admin = cap(cap_net_admin);
constexpr CapSet bpf = cap(cap_bpf);
constexpr CapSet kill = cap(cap_kill);
constexpr CapSet nice = cap(cap_sys_nice);
constexpr CapSet setpcap = cap(cap_setpcap);
constexpr CapSet sys_admin = cap(cap_sys_admin);
// What root holds on a 6.18 kernel (CAP_LAST_CAP 40), as /proc/1/status shows it.
constexpr CapSet root_all = 0x000001ffffffffffULL;
}  // namespace

TEST_CASE("the numbers match the kernel's") {
  CHECK(cap_kill == CAP_KILL);
  CHECK(cap_setpcap == CAP_SETPCAP);
  CHECK(cap_net_admin == CAP_NET_ADMIN);
  CHECK(cap_sys_admin == CAP_SYS_ADMIN);
  CHECK(cap_sys_nice == CAP_SYS_NICE);
  CHECK(cap_bpf == CAP_BPF);
  CHECK(name(CAP_LAST_CAP) != "cap_" + std::to_string(CAP_LAST_CAP));  // the table knows the header's last one
}

TEST_CASE("names are capsh's, in capability order") {
  CHECK(name(cap_net_admin) == "cap_net_admin");
  CHECK(name(0) == "cap_chown");
  CHECK(name(cap_bpf) == "cap_bpf");
  CHECK(name(40) == "cap_checkpoint_restore");
  CHECK(name(41) == "cap_41");
  CHECK(names(0) == "none");
  CHECK(names(nice | net_admin | kill) == "cap_kill,cap_net_admin,cap_sys_nice");
  CHECK(names(cap(63)) == "cap_63");
}

TEST_CASE("set-up needs CAP_NET_ADMIN and CAP_BPF, or CAP_SYS_ADMIN for bpf") {
  CHECK(missing_for_setup(net_admin | bpf).empty());
  CHECK(missing_for_setup(root_all).empty());
  CHECK(missing_for_setup(net_admin) == std::vector<std::string>{"CAP_BPF"});
  CHECK(missing_for_setup(bpf) == std::vector<std::string>{"CAP_NET_ADMIN"});
  CHECK(missing_for_setup(0) == std::vector<std::string>{"CAP_NET_ADMIN", "CAP_BPF"});
  CHECK(missing_for_setup(kill | nice) == std::vector<std::string>{"CAP_NET_ADMIN", "CAP_BPF"});
  CHECK(missing_for_setup(net_admin | sys_admin).empty());
  CHECK(sys_admin_for_bpf(net_admin | sys_admin));
  CHECK_FALSE(sys_admin_for_bpf(net_admin | sys_admin | bpf));
  CHECK_FALSE(sys_admin_for_bpf(net_admin | bpf));
}

TEST_CASE("kept: CAP_NET_ADMIN, and CAP_KILL and CAP_SYS_NICE only if held") {
  CHECK(to_keep(net_admin | bpf) == net_admin);
  CHECK(to_keep(root_all) == (net_admin | kill | nice));
  CHECK(to_keep(net_admin | bpf | kill) == (net_admin | kill));
  CHECK(to_keep(net_admin | sys_admin | nice) == (net_admin | nice));
}

TEST_CASE("before Linux 5.19 with unprivileged bpf disabled, map updates keep bpf()'s capability") {
  CHECK_FALSE(map_updates_need_capability("6.1.0-18-amd64", 2));  // Debian 12
  CHECK_FALSE(map_updates_need_capability("5.19.0", 1));
  CHECK_FALSE(map_updates_need_capability("5.15.0-91-generic", 0));  // enabled: nothing to keep
  CHECK(map_updates_need_capability("5.15.0-91-generic", 2));       // Ubuntu 22.04's default
  CHECK(map_updates_need_capability("5.18.19", 1));
  CHECK(map_updates_need_capability("4.19.0", 1));
  CHECK(map_updates_need_capability("unknown", 1));  // fail safe: keep it
  CHECK(to_keep(net_admin | bpf, true) == (net_admin | bpf));
  CHECK(to_keep(net_admin | sys_admin, true) == (net_admin | sys_admin));  // the stand-in
  CHECK(to_keep(net_admin | sys_admin | bpf, true) == (net_admin | bpf));  // CAP_BPF is enough
  CHECK(after_drop({net_admin | bpf, net_admin | bpf, 0, net_admin | bpf, root_all}, true).ambient == (net_admin | bpf));
}

TEST_CASE("an unprivileged agent with ambient CAP_NET_ADMIN and CAP_BPF keeps CAP_NET_ADMIN everywhere") {
  Sets before{net_admin | bpf, net_admin | bpf, net_admin | bpf, net_admin | bpf, root_all};
  const Sets after = after_drop(before);
  CHECK(after.effective == net_admin);
  CHECK(after.permitted == net_admin);
  CHECK(after.inheritable == net_admin);
  CHECK(after.ambient == net_admin);
  CHECK(after.bounding == root_all);  // no CAP_SETPCAP: it cannot shrink, and needs not (no file caps)
}

TEST_CASE("a non-root agent's ambient CAP_KILL stays ambient, so its guards signal other users' nodes") {
  const CapSet held = net_admin | bpf | kill;
  const Sets after = after_drop({held, held, held, held, root_all});
  CHECK(after.effective == (net_admin | kill));
  CHECK(after.ambient == (net_admin | kill));
  CHECK(after.inheritable == (net_admin | kill));
}

TEST_CASE("a root agent shrinks the bounding set to what it keeps, so exec'd guards get no more") {
  const Sets after = after_drop({root_all, root_all, 0, 0, root_all});
  CHECK(after.effective == (net_admin | kill | nice));
  CHECK(after.permitted == (net_admin | kill | nice));
  CHECK(after.inheritable == 0);
  CHECK(after.ambient == 0);
  CHECK(after.bounding == (net_admin | kill | nice));
  CHECK((after.bounding & setpcap) == 0);
}

TEST_CASE("what the bounding set lacks is not added back") {
  const CapSet bounding = root_all & ~kill;
  const Sets after = after_drop({root_all & ~kill, root_all & ~kill, 0, 0, bounding});
  CHECK(after.bounding == (net_admin | nice));
  CHECK(after.effective == (net_admin | nice));
}

TEST_CASE("CAP_SYS_ADMIN standing in for CAP_BPF is dropped too") {
  const CapSet held = net_admin | sys_admin;
  const Sets after = after_drop({held, held, 0, 0, root_all});
  CHECK(after.effective == net_admin);
}
