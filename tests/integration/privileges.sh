#!/usr/bin/env bash
# The agent's capabilities and --cleanup, on a 2-host cluster of its own (prefix tsp, set up by
# privileges_cluster_up, ctest fixture privileges2). Host 1's standard agent is stopped and this
# case runs its own there; the standard one is started again at the end.
# Usage: privileges.sh CASE with CASE one of
#   unprivileged  as nobody with only CAP_NET_ADMIN + CAP_BPF (ambient): CapEff/CapPrm become
#                 net_admin alone, on every thread; a partition applies and heals (ping)
#   guards        as nobody with CAP_KILL and CAP_SYS_NICE too: it pauses a root node; its guard
#                 holds them (ambient), though the agent dropped CAP_BPF
#   less          fewer capabilities: exit 2 naming the missing one(s), nothing attached
#   root          as root: CapEff/CapPrm/CapBnd become net_admin,kill,sys_nice; a partition
#                 applies and heals; SIGTERM still removes the filters and the clsact qdisc
#   cleanup       --cleanup after a SIGKILLed agent, again with nothing left, next to a foreign
#                 filter, refused while an agent runs; and it resumes a node that a killed agent
#                 (and its killed guard) left paused
# Prints PASS/FAIL; exit 0/1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
prefix=${TICKSPLIT_NS_PREFIX:?privileges.sh runs on a cluster of its own: set TICKSPLIT_NS_PREFIX}
state=$("$cluster" state-dir)
agent=${TICKSPLIT_AGENT:-$root/build/agent/ticksplit-agent}
ns=$prefix-h1
user=nobody
group=$(id -gn "$user")
work=$state/priv   # the agent's cookie and state directory, owned by $user
mine=""            # the agent this case started

# capability masks as /proc/PID/status prints them
net_admin_only=0000000000001000               # CAP_NET_ADMIN (12)
root_kept=0000000000801020                    # CAP_KILL (5), CAP_NET_ADMIN (12), CAP_SYS_NICE (23)
ours="pref 49374 "                            # tc's way of printing our priority 0xc0de

case=${1:?usage: privileges.sh CASE}
fail() { echo "FAIL $case: $*"; [ -f "$work/agent.log" ] && sed 's/^/  agent: /' "$work/agent.log" | tail -20; exit 1; }

alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
# Polls a condition every 50 ms for up to 10 s.
await() {
  local i
  for i in $(seq 200); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
stop_mine() {
  [ -n "$mine" ] || return 0
  kill -"${1:-TERM}" "$mine" 2>/dev/null || true
  await_gone "$mine" || { kill -KILL "$mine" 2>/dev/null || true; await_gone "$mine"; }
  mine=""
}
gone() { ! alive "$1"; }
# grep -q on a pipe would stop reading early and, with pipefail, fail the writer (SIGPIPE).
contains() {
  local in
  in=$(cat)
  grep -q -- "$1" <<<"$in"
}
await_gone() { await gone "$1"; }
finish() {
  stop_mine
  # A node a failed case left stopped (cleanup's last part kills a pause's guard).
  [ -f "$state/h1/app.pid" ] && kill -CONT "$(cat "$state/h1/app.pid")" 2>/dev/null || true
  # Whatever a failed case left on host 1 (a SIGKILLed agent's filters, the foreign filter).
  ip netns exec "$ns" "$agent" --cleanup >/dev/null 2>&1 || true
  tc -n "$ns" filter del dev eth0 ingress prio 1 2>/dev/null || true
  tc -n "$ns" qdisc del dev eth0 clsact 2>/dev/null || true
  rm -rf "$work"
  "$cluster" start-agent 1
}

"$cluster" stop-agent 1
trap finish EXIT
rm -rf "$work"
mkdir -p "$work/state"
install -m 400 -o "$user" -g "$group" "$state/cookie" "$work/cookie"
chown "$user:$group" "$work" "$work/state"

# Each user its own state directory: a root agent that dropped CAP_DAC_OVERRIDE cannot write its
# ledger into nobody's (docs/kernel.md, Privileges).
mkdir -m 700 "$work/root-state"
agent_args=(--node "app@198.51.100.11" --cookie-file "$work/cookie" --exempt 198.51.100.1 --exempt 2001:db8::1)
user_args=("${agent_args[@]}" --state-dir "$work/state")
root_args=("${agent_args[@]}" --state-dir "$work/root-state")
# As $user holding only the given capabilities (inheritable + ambient: they survive the exec).
as_user() {
  local caps=$1
  shift
  local set=()
  [ -n "$caps" ] && set=(--inh-caps "$caps" --ambient-caps "$caps")
  ip netns exec "$ns" setpriv --reuid "$user" --regid "$group" --clear-groups "${set[@]}" -- "$@"
}
started() { grep -q "running with capabilities" "$work/agent.log"; }
cap_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# Every thread of the agent holds the reduced sets (capset changes one thread only).
threads_hold() {
  local pid=$1 field=$2 want=$3 t
  for t in /proc/"$pid"/task/*; do
    [ "$(awk -v k="$field:" '$1 == k {print $2}' "$t/status")" = "$want" ] || return 1
  done
}
our_filters() { tc -n "$ns" filter show dev eth0 ingress; tc -n "$ns" filter show dev eth0 egress; }
has_ours() { our_filters | contains "$ours"; }
has_clsact() { tc -n "$ns" qdisc show dev eth0 | contains clsact; }
# Nothing it does after start-up failed for want of a capability (a ledger it cannot write, ...).
no_warnings() { ! grep -E "^[0-9T:.-]+ (warning|error) " "$work/agent.log"; }
partition_heals() {
  "$cluster" escript "$root/tests/integration/privileges_cases.escript" partition_heal "$prefix" ||
    fail "the partition did not apply and heal"
}

case "$case" in
  unprivileged)
    # Not through as_user: a function run with & is a subshell, and $! would be its pid.
    ip netns exec "$ns" setpriv --reuid "$user" --regid "$group" --clear-groups --inh-caps +net_admin,+bpf \
      --ambient-caps +net_admin,+bpf -- "$agent" "${user_args[@]}" >"$work/agent.log" 2>&1 &
    mine=$!
    await started || fail "the agent did not start"
    # (not /proc/PID's owner: a process that dropped capabilities is not dumpable, and root owns it)
    [ "$(awk '$1 == "Uid:" {print $2}' "/proc/$mine/status")" = "$(id -u "$user")" ] || fail "the agent does not run as $user"
    eff=$(cap_of "$mine" CapEff) prm=$(cap_of "$mine" CapPrm) amb=$(cap_of "$mine" CapAmb)
    [ "$eff" = "$net_admin_only" ] || fail "CapEff $eff, want $net_admin_only"
    [ "$prm" = "$net_admin_only" ] || fail "CapPrm $prm, want $net_admin_only"
    [ "$amb" = "$net_admin_only" ] || fail "CapAmb $amb, want $net_admin_only"
    grep -q "running with capabilities cap_net_admin (dropped cap_bpf)" "$work/agent.log" || fail "no capability line"
    partition_heals
    threads_hold "$mine" CapEff "$net_admin_only" || fail "a thread holds more than $net_admin_only"
    stop_mine TERM
    has_ours && fail "SIGTERM left our filters"
    no_warnings || fail "the agent warned"
    echo "PASS unprivileged (CapEff=CapPrm=CapAmb $eff after start-up as $user)"
    ;;

  guards)
    caps=+net_admin,+bpf,+kill,+sys_nice
    ip netns exec "$ns" setpriv --reuid "$user" --regid "$group" --clear-groups --inh-caps "$caps" \
      --ambient-caps "$caps" -- "$agent" "${user_args[@]}" >"$work/agent.log" 2>&1 &
    mine=$!
    await started || fail "the agent did not start"
    [ "$(cap_of "$mine" CapEff)" = "$root_kept" ] || fail "CapEff $(cap_of "$mine" CapEff), want $root_kept"
    out=$("$cluster" escript "$root/tests/integration/privileges_cases.escript" pause_guard "$mine") ||
      fail "the pause failed: $out"
    echo "$out" | sed 's/^/  /'
    grep -qx "guard_eff $root_kept" <<<"$out" || fail "the guard's CapEff is not $root_kept"
    grep -qx "guard_amb $root_kept" <<<"$out" || fail "the guard's CapAmb is not $root_kept"
    grep -qx "node_state T" <<<"$out" || fail "the root node was not stopped"
    grep -qx "pause_ended deadline" <<<"$out" || fail "the pause did not end at its deadline"
    stop_mine TERM
    echo "PASS guards (a nobody agent paused a root node; its guard held $root_kept)"
    ;;

  less)
    for caps in +net_admin +bpf ""; do
      case "$caps" in
        +net_admin) want="missing CAP_BPF:" ;;
        +bpf) want="missing CAP_NET_ADMIN:" ;;
        *) want="missing CAP_NET_ADMIN and CAP_BPF:" ;;
      esac
      rc=0
      as_user "$caps" "$agent" "${user_args[@]}" >"$work/agent.log" 2>&1 || rc=$?
      [ "$rc" = 2 ] || fail "with '${caps:-no capabilities}': exit $rc, want 2"
      grep -q "$want" "$work/agent.log" || fail "with '${caps:-no capabilities}': no '$want'"
      echo "  ${caps:-none}: exit 2: $(grep -o "$want" "$work/agent.log")"
    done
    ! has_clsact || fail "a refused agent touched eth0"
    rc=0
    as_user "" "$agent" --cleanup >"$work/agent.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] && grep -q "CAP_NET_ADMIN" "$work/agent.log" || fail "--cleanup without CAP_NET_ADMIN: exit $rc"
    echo "PASS less (exit 2 naming the missing capabilities; --cleanup too)"
    ;;

  root)
    ip netns exec "$ns" "$agent" "${root_args[@]}" >"$work/agent.log" 2>&1 &
    mine=$!
    await started || fail "the agent did not start"
    for f in CapEff CapPrm CapBnd; do
      got=$(cap_of "$mine" $f)
      [ "$got" = "$root_kept" ] || fail "$f $got, want $root_kept"
    done
    [ "$(cap_of "$mine" CapInh)" = 0000000000000000 ] || fail "CapInh $(cap_of "$mine" CapInh)"
    grep -q "running with capabilities cap_kill,cap_net_admin,cap_sys_nice (dropped " "$work/agent.log" ||
      fail "no capability line"
    has_ours || fail "no filter of ours on eth0"
    partition_heals
    threads_hold "$mine" CapEff "$root_kept" || fail "a thread holds more than $root_kept"
    stop_mine TERM
    has_ours && fail "SIGTERM left our filters"
    has_clsact && fail "SIGTERM left the clsact qdisc"
    no_warnings || fail "the agent warned"
    echo "PASS root (CapEff=CapPrm=CapBnd $root_kept; SIGTERM removed the filters)"
    ;;

  cleanup)
    run_cleanup() { ip netns exec "$ns" "$agent" --cleanup "$@"; }
    start_and_kill() {
      : >"$work/agent.log"
      ip netns exec "$ns" "$agent" "${root_args[@]}" >"$work/agent.log" 2>&1 &
      mine=$!
      await started || fail "the agent did not start"
      stop_mine KILL
      has_ours || fail "the SIGKILLed agent left no filter to clean up"
    }
    # 1. what a SIGKILLed agent left: every filter of ours and the clsact qdisc go
    start_and_kill
    out=$(run_cleanup) || fail "--cleanup: exit $?"
    echo "$out" | sed 's/^/  /'
    for line in "removed filter ingress eth0" "removed filter egress eth0" "removed clsact qdisc eth0"; do
      grep -qx "$line" <<<"$out" || fail "--cleanup did not say '$line'"
    done
    for dev in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      [ -z "$(tc -n "$ns" filter show dev "$dev" ingress)$(tc -n "$ns" filter show dev "$dev" egress)" ] ||
        fail "a filter is left on $dev"
    done
    tc -n "$ns" qdisc show | contains clsact && fail "a clsact qdisc is left"
    # 2. nothing left: exit 0, says so; the node options a config file gives are ignored
    out=$(run_cleanup --node app@198.51.100.11 --cookie-file /nonexistent --state-dir /nonexistent) ||
      fail "second --cleanup: exit $?"
    grep -q "^nothing to remove" <<<"$out" || fail "second --cleanup said: $out"
    echo "  $out"
    # 3. next to a foreign filter: ours go, the qdisc and the other filter stay
    start_and_kill
    tc -n "$ns" filter add dev eth0 ingress prio 1 protocol ip u32 match ip src 192.0.2.1/32
    out=$(run_cleanup --interface eth0) || fail "--cleanup next to a foreign filter: exit $?"
    echo "$out" | sed 's/^/  /'
    grep -qx "left clsact qdisc eth0: 1 other filter" <<<"$out" || fail "it did not say it left the qdisc"
    has_ours && fail "a filter of ours is left"
    has_clsact || fail "the clsact qdisc holding a foreign filter was removed"
    tc -n "$ns" filter show dev eth0 ingress | contains "pref 1 u32" || fail "the foreign filter was removed"
    tc -n "$ns" filter del dev eth0 ingress prio 1
    tc -n "$ns" qdisc del dev eth0 clsact
    # 4. a live agent holds the namespace: refused, nothing removed
    ip netns exec "$ns" "$agent" "${root_args[@]}" >"$work/agent.log" 2>&1 &
    mine=$!
    await started || fail "the agent did not start"
    before=$(our_filters | grep -c "$ours" || true)
    [ "$before" -gt 0 ] || fail "the live agent attached no filter"
    rc=0
    err=$(run_cleanup 2>&1) || rc=$?
    [ "$rc" = 2 ] || fail "--cleanup next to a live agent: exit $rc, want 2"
    grep -q "refused" <<<"$err" || fail "--cleanup next to a live agent said: $err"
    [ "$(our_filters | grep -c "$ours" || true)" = "$before" ] || fail "--cleanup removed a live agent's filters"
    echo "  live agent: exit 2: $err"
    stop_mine TERM
    # 5. a node paused by an agent killed with its guard: --cleanup, given the agent's node (its
    # name) and state directory, resumes it from that agent's ledger
    : >"$work/agent.log"
    ip netns exec "$ns" "$agent" "${root_args[@]}" >"$work/agent.log" 2>&1 &
    mine=$!
    await started || fail "the agent did not start"
    "$cluster" escript "$root/tests/integration/privileges_cases.escript" pause_hold >"$work/pause.out" 2>&1 &
    holder=$!
    paused() { grep -q '^paused' "$work/pause.out"; }
    await paused || fail "the pause did not start: $(cat "$work/pause.out")"
    ledger="$work/root-state/ticksplit@198.51.100.11.faults.json"
    guard=$(grep -oE '"guard_pid": ?[0-9]+' "$ledger" | grep -oE '[0-9]+$') || fail "no guard in the ledger"
    node=$(cat "$state/h1/app.pid")
    stop_mine KILL
    kill -KILL "$guard"
    await_gone "$guard" || fail "the guard $guard survived SIGKILL"
    wait "$holder" || true
    state_of() { awk '$1 == "State:" {print $2}' "/proc/$1/status"; }
    [ "$(state_of "$node")" = T ] || fail "the node is not stopped: $(state_of "$node")"
    out=$(run_cleanup --node app@198.51.100.11 --state-dir "$work/root-state") || fail "--cleanup after a pause: exit $?"
    echo "$out" | sed 's/^/  /'
    grep -q "^resumed app@198.51.100.11 (pid $node)" <<<"$out" || fail "it did not say it resumed the node"
    [ "$(state_of "$node")" != T ] || fail "the node is still stopped"
    echo "PASS cleanup"
    ;;

  *) fail "unknown case" ;;
esac
