#!/usr/bin/env bash
# Checks that a cluster with the given prefix left nothing behind: no namespace, no state
# directory or /etc/netns entry, no process of ours (agents, BEAM nodes) still running, no ticksplit filter on an
# interface of this (the root) namespace. Filters inside the deleted namespaces went with them.
set -u
prefix=${1:?usage: left_nothing.sh PREFIX}
problems=0
ns=$(ip netns list | awk '{print $1}' | grep -E "^$prefix-(ctl|h[0-9]+)$")
[ -n "$ns" ] && { echo "FAIL: namespaces left: $ns"; problems=1; }
[ -e "/run/ticksplit-cluster/$prefix" ] && { echo "FAIL: state directory left"; problems=1; }
# agent_slow_peer_dns gives one host a resolv.conf of its own through /etc/netns
etc=$(ls -d /etc/netns/"$prefix"-* 2>/dev/null)
[ -n "$etc" ] && { echo "FAIL: per-namespace /etc left: $etc"; problems=1; }
procs=$(pgrep -a -f "app@198\.51\.100\.|ticksplit-agent .*--node" | grep -v pgrep)
[ -n "$procs" ] && { echo "FAIL: processes left:"; echo "$procs"; problems=1; }
for dev in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
  for hook in ingress egress; do
    if tc filter show dev "$dev" "$hook" 2>/dev/null | grep -q ticksplit_drop; then
      echo "FAIL: a ticksplit filter left on $dev $hook"; problems=1
    fi
  done
done
[ "$problems" -eq 0 ] && echo "PASS: cluster $prefix left nothing behind"
exit "$problems"
