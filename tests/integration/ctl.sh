#!/usr/bin/env bash
# ticksplit-ctl against a 5-host cluster (ctest fixture cluster5): ctl.sh CASE.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
ctl=${TICKSPLIT_CTL:-$root/build/controller/ticksplit-ctl}
state=$("$cluster" state-dir)
prefix=${TICKSPLIT_NS_PREFIX:-tsplit}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TICKSPLIT_HOSTS=5

fail() { echo "FAIL $case: $*"; exit 1; }
in_ctl() { ip netns exec "$prefix-ctl" "$@"; }
ctl_run() { in_ctl "$ctl" run "$@" --cookie-file "$state/cookie"; }
now_ms() { date +%s%3N; }
# A run in the background, exec'd all the way down so that $! is ticksplit-ctl itself.
ctl_background() {
  (cd "$work" && exec ip netns exec "$prefix-ctl" "$ctl" run "$1" --cookie-file "$state/cookie" \
    --history "$work/h.jsonl" --report "$work/report.html" >"$work/out" 2>&1) &
}
agents() { for i in $(seq "$1"); do printf -- '--agent ticksplit@198.51.100.%d ' $((10 + i)); done; }

case=${1:?usage: ctl.sh CASE}
case "$case" in
  run)
    "$cluster" escript "$root/tests/integration/partition_cases.escript" keep_mesh >"$work/mesh" ||
      { cat "$work/mesh"; fail "cannot start the mesh keepers"; }
    rc=0
    (cd "$work" && ctl_run "$root/tests/data/schedules/five.yaml" --history "$work/h.jsonl" \
      --report "$work/report.html") >"$work/out" 2>&1 || rc=$?
    cat "$work/out"
    [ "$rc" -eq 0 ] || fail "exit status $rc"
    h=$work/h.jsonl
    jq -e . "$h" >/dev/null || fail "the history is not JSON Lines"
    [ "$(jq -s '[.[] | select(.kind == "fault_start")] | length' "$h")" -eq 3 ] || fail "not 3 fault_start lines"
    [ "$(jq -s '[.[] | select(.kind == "fault_end")] | length' "$h")" -eq 3 ] || fail "not 3 fault_end lines"
    [ "$(jq -s '[.[] | select(.kind == "fault_end" and .dropped_packets > 0)] | length' "$h")" -eq 3 ] ||
      fail "a fault_end with no dropped packets"
    jq -s -e '[.[] | select(.kind == "fault_start")][0] | .requested == "2.9s" and .requested_ms == 2900
              and .window_class == "above_window"' "$h" >/dev/null ||
      fail "the first fault is not the schedule's for: 2.9s (2900 ms, above the window)"
    jq -s -e '[.[].time_us] | . == sort' "$h" >/dev/null || fail "the history is not time-ordered"
    jq -s -e '(.[0].kind == "run_start") and (.[-1].kind == "run_end")' "$h" >/dev/null || fail "run_start/run_end"
    # the above-window isolate of app5: every other node saw it go, between that fault's start and end
    for i in 1 2 3 4; do
      jq -s -e --arg o "app@198.51.100.1$i" '
        (map(select(.kind == "fault_start" and .number == 1))[0].time_us) as $s |
        (map(select(.kind == "fault_end"))[0].time_us) as $e |
        any(.[]; .kind == "nodedown" and .observer == $o and .peer == "app@198.51.100.15"
                 and .time_us >= $s and .time_us <= $e)' "$h" >/dev/null ||
        fail "app@198.51.100.1$i did not report nodedown of app5 during the isolate"
    done
    grep -q "down at" "$work/out" || fail "the summary does not mention nodedowns"
    grep -q "^report: $work/report.html" "$work/out" || fail "run --report did not say it wrote the report"
    [ "$(grep -o '<g class="fault"' "$work/report.html" | wc -l)" -eq 3 ] || fail "the report does not draw the 3 faults"
    echo "PASS run (3 faults, each with dropped packets, every other node saw app5 go, history ordered)"
    ;;

  # A one-way cut on distribution's TCP link goes down both ways: plan warns, and the run's
  # summary and history show the link down, seen from both ends.
  topology)
    "$cluster" escript "$root/tests/integration/partition_cases.escript" keep_mesh >"$work/mesh" ||
      { cat "$work/mesh"; fail "cannot start the mesh keepers"; }
    cat >"$work/one_way.yaml" <<YAML
agents: [ticksplit@198.51.100.11, ticksplit@198.51.100.12, ticksplit@198.51.100.13,
         ticksplit@198.51.100.14, ticksplit@198.51.100.15]
steps:
  - one_way: {from: app@198.51.100.11, to: app@198.51.100.12}
    for: 6s                   # long enough for the fault_start line (1 s reorder buffer) and the warning
YAML
    in_ctl "$ctl" plan "$work/one_way.yaml" --cookie-file "$state/cookie" >"$work/plan" 2>&1 ||
      { cat "$work/plan"; fail "plan failed"; }
    cat "$work/plan"
    grep -q "WARNING: one_way: 1 link(s) cut one way only (app@198.51.100.11 - app@198.51.100.12)" "$work/plan" ||
      fail "plan does not warn that the one-way cut is a two-way outage"
    grep -q "on distribution's TCP links: 1 of 10 cut" "$work/plan" || fail "plan does not show the links cut"
    grep -q "one_way, 6000 ms" "$work/plan" || fail "plan does not show the fault"
    # During the fault app 1 logs a warning: the line reaches the history with the node's name.
    ctl_background "$work/one_way.yaml"
    pid=$!
    h=$work/h.jsonl
    for _ in $(seq 100); do grep -q '"kind":"fault_start"' "$h" 2>/dev/null && break; sleep 0.05; done
    grep -q '"kind":"fault_start"' "$h" || { kill "$pid"; fail "no fault_start in the history within 5 s"; }
    marker="ticksplit-ctl-topology-$$"
    "$cluster" escript "$root/tests/integration/agent_cases.escript" log_warning "$marker" >/dev/null ||
      { kill "$pid"; fail "app 1 could not log"; }
    rc=0
    wait "$pid" || rc=$?
    cat "$work/out"
    [ "$rc" -eq 0 ] || fail "exit status $rc"
    jq -s -e --arg m "$marker" '
      (map(select(.kind == "fault_start"))[0].time_us) as $s | (map(select(.kind == "fault_end"))[0].time_us) as $e |
      any(.[]; .kind == "log" and .node == "app@198.51.100.11" and .level == "warning" and .message == $m
               and .time_us >= $s and .time_us <= $e)' "$h" >/dev/null ||
      fail "app 1's warning during the fault is not in the history"
    jq -s -e '.[] | select(.kind == "fault_start") | .links_one_way == [["app@198.51.100.11", "app@198.51.100.12"]]' \
      "$h" >/dev/null || fail "fault_start does not record the one-way link"
    for pair in "app@198.51.100.11 app@198.51.100.12" "app@198.51.100.12 app@198.51.100.11"; do
      set -- $pair
      jq -s -e --arg o "$1" --arg p "$2" '
        (map(select(.kind == "fault_start"))[0].time_us) as $s |
        any(.[]; .kind == "nodedown" and .observer == $o and .peer == $p and .time_us >= $s)' "$h" >/dev/null ||
        fail "$1 did not see $2 go: the cut is not two-way"
    done
    line=$(grep "^  app@198.51.100.11 - app@198.51.100.12 " "$work/out") || fail "the summary has no line for the link"
    grep -q "cut one way.*down at" <<<"$line" || fail "the summary does not show the link down: $line"
    # tests/data/report/one_way_cascades.jsonl was recorded so (TICKSPLIT_KEEP_HISTORY=FILE).
    [ -z "${TICKSPLIT_KEEP_HISTORY:-}" ] || cp "$h" "$TICKSPLIT_KEEP_HISTORY"
    echo "PASS topology (plan warns; both ends saw the one-way cut go down; the summary shows it; app 1's warning in the history)"
    ;;

  # Faults beyond partitions through a schedule: a pause above the window (the others see
  # app 3 go with net_tick_timeout; its agent's guard resumes it) and a lossy isolate (both
  # dropped and passed packets, the rate in the summary).
  faults)
    "$cluster" escript "$root/tests/integration/partition_cases.escript" keep_mesh >"$work/mesh" ||
      { cat "$work/mesh"; fail "cannot start the mesh keepers"; }
    cat >"$work/faults.yaml" <<YAML
agents: [ticksplit@198.51.100.11, ticksplit@198.51.100.12, ticksplit@198.51.100.13,
         ticksplit@198.51.100.14, ticksplit@198.51.100.15]
steps:
  - pause: app@198.51.100.13
    for: 3.5s
  - wait: 1s
  - isolate: app@198.51.100.14
    for: 3s
    loss: 50%
YAML
    in_ctl "$ctl" plan "$work/faults.yaml" --cookie-file "$state/cookie" >"$work/plan" 2>&1 ||
      { cat "$work/plan"; fail "plan failed"; }
    grep -q "ticksplit@198.51.100.13 stops app@198.51.100.13's OS process (SIGSTOP)" "$work/plan" ||
      { cat "$work/plan"; fail "plan does not show the pause"; }
    rc=0
    (cd "$work" && ctl_run "$work/faults.yaml" --history "$work/h.jsonl") >"$work/out" 2>&1 || rc=$?
    cat "$work/out"
    [ "$rc" -eq 0 ] || fail "exit status $rc"
    h=$work/h.jsonl
    jq -s -e '[.[] | select(.kind == "fault_start")][0] | .shape == "pause" and .node == "app@198.51.100.13"'       "$h" >/dev/null || fail "the first fault_start is not the pause of app 3"
    # The guard's resume: after the planned end, and soon (the tight bound is partition_pause_above's).
    jq -s -e '[.[] | select(.kind == "fault_end")][0] | .agents["ticksplit@198.51.100.13"]
              | .reason == "deadline" and .resume_late_us >= 0 and .resume_late_us < 100000' "$h" >/dev/null ||
      fail "the pause did not end at its deadline"
    for i in 1 2 4 5; do
      jq -s -e --arg o "app@198.51.100.1$i" '
        (map(select(.kind == "fault_start"))[0].time_us) as $s | (map(select(.kind == "fault_end"))[0].time_us) as $e |
        any(.[]; .kind == "nodedown" and .observer == $o and .peer == "app@198.51.100.13"
                 and .reason == "net_tick_timeout" and .time_us >= $s and .time_us <= $e)' "$h" >/dev/null ||
        fail "app@198.51.100.1$i did not see the paused app 3 time out"
    done
    jq -s -e '[.[] | select(.kind == "fault_start")][1].loss == 0.5' "$h" >/dev/null || fail "the lossy fault's loss"
    jq -s -e '[.[] | select(.kind == "fault_end")][1] | .dropped_packets > 0 and .passed_packets > 0
              and .loss_rate > 0.2 and .loss_rate < 0.8' "$h" >/dev/null ||
      fail "the lossy fault did not both drop and pass packets near 50%"
    grep -q "50% (.*% seen)" "$work/out" || fail "the summary does not show the loss seen"
    echo "PASS faults (a pause: the others saw app 3 time out, resumed at its deadline; a 50% lossy isolate)"
    ;;
  kill)
    # Every host of the cluster (5 in CI, any size by hand): app 2 killed, restarted 3 s later by
    # its agent's --node-start (scripts/cluster's start-node command), joined again.
    n=$(cat "$state/size")
    agents=$(for i in $(seq "$n"); do printf 'ticksplit@198.51.100.%d, ' $((10 + i)); done)
    cat >"$work/kill.yaml" <<YAML
agents: [${agents%, }]
steps:
  - kill_node: app@198.51.100.12
    restart_after: 3s
YAML
    in_ctl "$ctl" plan "$work/kill.yaml" --cookie-file "$state/cookie" >"$work/plan" 2>&1 ||
      { cat "$work/plan"; fail "plan failed"; }
    grep -q "ticksplit@198.51.100.12 kills app@198.51.100.12's OS process (SIGKILL) at the start; its guard starts it again 3000 ms later" "$work/plan" ||
      { cat "$work/plan"; fail "plan does not show the kill"; }
    rc=0
    (cd "$work" && ctl_run "$work/kill.yaml" --history "$work/h.jsonl") >"$work/out" 2>&1 || rc=$?
    cat "$work/out"
    [ "$rc" -eq 0 ] || fail "exit status $rc"
    h=$work/h.jsonl
    jq -s -e '[.[] | select(.kind == "fault_start")][0] | .shape == "kill_node" and .node == "app@198.51.100.12"
              and .restart_after_ms == 3000' "$h" >/dev/null || fail "the fault_start is not the kill of app 2"
    # Killed at the start, started again after the planned restart and soon (the tight bounds
    # are partition_kill_restart's), and joined again by its agent after that.
    jq -s -e '([.[] | select(.kind == "fault_start")][0].time_us) as $s | [.[] | select(.kind == "fault_end")][0]
              | .agents["ticksplit@198.51.100.12"]
              | .reason == "deadline" and .killed and .down_us >= $s and .down_us - $s < 100000
                and .exited_us >= .down_us and .restart_late_us >= 0 and .restart_late_us < 100000
                and .up_us > .started_us and .effective_outage_us == .up_us - .down_us' "$h" >/dev/null ||
      fail "the kill's evidence: killed at the start, restarted at its time, joined again"
    for i in $(seq "$n"); do
      [ "$i" = 2 ] && continue
      jq -s -e --arg o "app@198.51.100.1$i" '
        (map(select(.kind == "fault_start"))[0].time_us) as $s | (map(select(.kind == "fault_end"))[0].time_us) as $e |
        any(.[]; .kind == "nodedown" and .observer == $o and .peer == "app@198.51.100.12"
                 and .time_us >= $s and .time_us <= $e)' "$h" >/dev/null ||
        fail "app@198.51.100.1$i did not see the killed app 2 go down"
    done
    grep -q "closed (an end killed)" "$work/out" || fail "the summary does not show the killed links"
    # The new app 2 gets the probe and the mesh keepers again, for the cases after this one.
    "$cluster" escript "$root/tests/integration/partition_cases.escript" keep_mesh >"$work/mesh" ||
      { cat "$work/mesh"; fail "cannot restart the mesh keepers"; }
    echo "PASS kill (app 2 killed, the others saw it go, restarted by its agent's command, joined again)"
    ;;

  bad_schedule)
    rc=0
    err=$(ctl_run "$root/tests/data/schedules/bad_line7.yaml" 2>&1) || rc=$?
    echo "$err"
    [ "$rc" -eq 2 ] || fail "exit status $rc, expected 2"
    grep -q "bad_line7.yaml:7: unknown partition shape 'sideways'" <<<"$err" || fail "the message does not name line 7"
    echo "PASS bad_schedule (exit 2, names line 7)"
    ;;

  sigint)
    cat >"$work/long.yaml" <<YAML
agents: [ticksplit@198.51.100.11, ticksplit@198.51.100.12, ticksplit@198.51.100.13]
steps:
  - isolate: app@198.51.100.13
    for: 20s
YAML
    ctl_background "$work/long.yaml"
    pid=$!
    active() { in_ctl "$ctl" status $(agents 3) --cookie-file "$state/cookie" | grep -c 'state => active' || true; }
    for _ in $(seq 200); do
      [ "$(active)" -eq 3 ] && break
      sleep 0.05
    done
    [ "$(active)" -eq 3 ] || fail "the fault never became active on the 3 agents"
    t0=$(now_ms)
    kill -INT "$pid"
    rc=0
    wait "$pid" || rc=$?
    elapsed=$(($(now_ms) - t0))
    cat "$work/out"
    [ "$rc" -eq 130 ] || fail "exit status $rc, expected 130"
    active=$(active)
    [ "$active" -eq 0 ] || fail "$active fault(s) still active after SIGINT"
    [ "$elapsed" -le 500 ] || fail "took ${elapsed} ms to heal and exit"
    jq -s -e 'any(.[]; .kind == "fault_end") and .[-1].kind == "run_end"' "$work/h.jsonl" >/dev/null ||
      fail "no fault_end/run_end after SIGINT"
    [ "$(grep -o '<g class="fault"' "$work/report.html" | wc -l)" -eq 1 ] || fail "no report of the interrupted run"
    echo "PASS sigint (healed every agent and exited 130 within ${elapsed} ms)"
    ;;

  silent_agent)
    # Agent 3 stops answering (SIGSTOP) inside a fault: exit 1 naming it, the others healed.
    cat >"$work/s.yaml" <<YAML
agents: [ticksplit@198.51.100.11, ticksplit@198.51.100.12, ticksplit@198.51.100.13]
steps:
  - isolate: app@198.51.100.13
    for: 1s
YAML
    apid=$(cat "$state/h3/agent.pid")
    trap 'kill -CONT $apid 2>/dev/null || true; rm -rf "$work"' EXIT
    ctl_background "$work/s.yaml"
    pid=$!
    for _ in $(seq 200); do
      in_ctl "$ctl" status --agent ticksplit@198.51.100.13 --cookie-file "$state/cookie" | grep -q 'state => active' && break
      sleep 0.05
    done
    kill -STOP "$apid"
    rc=0
    wait "$pid" || rc=$?
    kill -CONT "$apid"
    cat "$work/out"
    [ "$rc" -eq 1 ] || fail "exit status $rc, expected 1"
    grep -q "no fault_healed from agent(s) ticksplit@198.51.100.13" "$work/out" || fail "the silent agent is not named"
    active=$(in_ctl "$ctl" status --agent ticksplit@198.51.100.11 --agent ticksplit@198.51.100.12 \
      --cookie-file "$state/cookie" | grep -c 'state => active' || true)
    [ "$active" -eq 0 ] || fail "the other agents still hold active faults"
    echo "PASS silent_agent (exit 1, the silent agent named, the others healed)"
    ;;

  bench)
    # From deciding a fault to every agent's reply (arm_ms in fault_start), for 3 and 5
    # agents; and how far apart the agents' first drops were (from their evidence: bounded
    # below by when traffic happened to arrive, not only by arming).
    "$cluster" escript "$root/tests/integration/partition_cases.escript" keep_mesh >"$work/mesh" ||
      { cat "$work/mesh"; fail "cannot start the mesh keepers"; }
    out=${TICKSPLIT_BENCH_DIR:-/tmp}/ctl_arm.txt
    mkdir -p "$(dirname "$out")"
    echo "ticksplit-ctl: deciding a fault -> every agent armed (12 isolate faults of 300 ms each)" >"$out"
    for n in 3 5; do
      {
        printf 'agents: ['
        for i in $(seq "$n"); do printf '%sticksplit@198.51.100.%d' "$([ "$i" -gt 1 ] && echo ', ')" $((10 + i)); done
        printf ']
seed: 5
steps:
  - repeat: 12
    steps: [{isolate: random_node, for: 300ms}]
'
      } >"$work/b$n.yaml"
      (cd "$work" && ctl_run "$work/b$n.yaml" --history "$work/b$n.jsonl" >/dev/null) || fail "bench run with $n agents failed"
      jq -s -r --arg n "$n" '
        def pick(f): if length == 0 then "n/a" else (sort | .[(length * f | floor)] | . * 1000 | round / 1000 | tostring) end;
        ([.[] | select(.kind == "fault_start") | .arm_ms]) as $arm |
        ([.[] | select(.kind == "fault_end") | [.agents[]? | .first_drop_us | select(. != null)]
              | select(length > 1) | (max - min) / 1000]) as $spread |
        "  \($n) agents: arm median \($arm | pick(0.5)) ms, p90 \($arm | pick(0.9)) ms;" +
        " first-drop spread across agents median \($spread | pick(0.5)) ms, p90 \($spread | pick(0.9)) ms" +
        " (\($spread | length) faults with drops at 2+ agents)"' \
        "$work/b$n.jsonl" >>"$out"
    done
    cat "$out"
    echo "PASS bench"
    ;;

  *) fail "unknown case" ;;
esac
