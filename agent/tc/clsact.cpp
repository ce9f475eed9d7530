#include "agent/tc/clsact.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>

#include <set>
#include <string>
#include <vector>

namespace ticksplit::agent::tc {
namespace {

std::string where(int ifindex) { return "interface " + std::to_string(ifindex); }

std::uint32_t hook_parent(bpf::Hook hook) {
  return TC_H_MAKE(TC_H_CLSACT, hook == bpf::Hook::ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

const char* hook_name(bpf::Hook hook) { return hook == bpf::Hook::ingress ? "ingress" : "egress"; }

// A tc request: netlink header + tcmsg, ready for attributes.
Result<MsgPtr> tc_message(int type, int flags, int ifindex, std::uint32_t parent, std::uint32_t handle,
                          std::uint32_t info) {
  MsgPtr msg(nlmsg_alloc_simple(type, flags));
  if (!msg) return netlink_error("allocating a netlink message", -NLE_NOMEM);
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  tcm.tcm_parent = parent;
  tcm.tcm_handle = handle;
  tcm.tcm_info = info;
  if (const int err = nlmsg_append(msg.get(), &tcm, sizeof tcm, NLMSG_ALIGNTO); err < 0)
    return netlink_error("building a tc message", err);
  return msg;
}

std::uint32_t filter_info() { return TC_H_MAKE(static_cast<std::uint32_t>(filter_priority) << 16, htons(ETH_P_ALL)); }

}  // namespace

Result<bool> add_clsact(Netlink& nl, int ifindex) {
  auto msg = tc_message(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
  if (!msg) return msg.error();
  if (const int err = nla_put_string(msg->get(), TCA_KIND, "clsact"); err < 0)
    return netlink_error("building the clsact request", err);
  const int err = nl.request(std::move(*msg));
  if (err == 0) return true;
  if (err == -NLE_EXIST) return false;
  return netlink_error("adding a clsact qdisc to " + where(ifindex) +
                           " (does this kernel have sch_ingress/clsact, and do we have CAP_NET_ADMIN?)",
                       err);
}

Status remove_clsact(Netlink& nl, int ifindex) {
  auto msg = tc_message(RTM_DELQDISC, 0, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
  if (!msg) return msg.error();
  if (const int err = nla_put_string(msg->get(), TCA_KIND, "clsact"); err < 0)
    return netlink_error("building the clsact request", err);
  const int err = nl.request(std::move(*msg));
  // Gone already (or the interface with it): nothing to remove.
  if (err == 0 || err == -NLE_OBJ_NOTFOUND || err == -NLE_INVAL || err == -NLE_NODEV) return success();
  return netlink_error("removing the clsact qdisc from " + where(ifindex), err);
}

Status attach_filter(Netlink& nl, int ifindex, bpf::Hook hook, int prog_fd) {
  auto msg = tc_message(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, ifindex, hook_parent(hook), filter_handle,
                        filter_info());
  if (!msg) return msg.error();
  nl_msg* m = msg->get();
  nlattr* options = nullptr;
  if (nla_put_string(m, TCA_KIND, "bpf") < 0 || (options = nla_nest_start(m, TCA_OPTIONS)) == nullptr ||
      nla_put_u32(m, TCA_BPF_FD, static_cast<std::uint32_t>(prog_fd)) < 0 ||
      nla_put_string(m, TCA_BPF_NAME, filter_name) < 0 || nla_put_u32(m, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) < 0 ||
      nla_nest_end(m, options) < 0)
    return netlink_error("building the cls_bpf request", -NLE_NOMEM);
  if (const int err = nl.request(std::move(*msg)); err < 0)
    return netlink_error(std::string("attaching the drop filter on ") + hook_name(hook) + " of " + where(ifindex) +
                             " (does this kernel have cls_bpf?)",
                         err);
  return success();
}

Result<bool> detach_filter(Netlink& nl, int ifindex, bpf::Hook hook) {
  auto msg = tc_message(RTM_DELTFILTER, 0, ifindex, hook_parent(hook), filter_handle, filter_info());
  if (!msg) return msg.error();
  if (const int err = nla_put_string(msg->get(), TCA_KIND, "bpf"); err < 0)
    return netlink_error("building the filter removal", err);
  const int err = nl.request(std::move(*msg));
  if (err == 0) return true;
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_INVAL || err == -NLE_NODEV) return false;
  return netlink_error(std::string("removing the drop filter from ") + hook_name(hook) + " of " + where(ifindex), err);
}

Result<int> count_filters(Netlink& nl, int ifindex, bpf::Hook hook) {
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  tcm.tcm_parent = hook_parent(hook);
  std::vector<tcmsg> listed;
  if (const int err = nl.dump(RTM_GETTFILTER, tcm, listed); err < 0)
    return netlink_error(std::string("listing the filters on ") + hook_name(hook) + " of " + where(ifindex), err);
  // The kernel lists a filter's priority once and then each of its handles (u32 lists its
  // hash tables too), so filters are told apart by priority.
  std::set<std::uint32_t> priorities;
  for (const auto& t : listed) priorities.insert(TC_H_MAJ(t.tcm_info));
  return static_cast<int>(priorities.size());
}

}  // namespace ticksplit::agent::tc
