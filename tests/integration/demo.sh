#!/usr/bin/env bash
# scripts/demo as a new user runs it:
#   demo.sh fresh    from a fresh clone of this repository (its own build): exit 0, a summary
#                    in which the above-window fault caused nodedowns, the checker's verdict
#                    on the clients' register (invalid, naming a fault; no anomaly around the
#                    below-window fault, anomalies around the above-window one), the
#                    histories, and nothing left behind
#   demo.sh sigint   Ctrl-C (SIGINT to the demo's process group) while the schedule runs:
#                    exit 130 and nothing left behind
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
case=${1:?usage: demo.sh fresh|sigint}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL demo $case: $*"; exit 1; }

case "$case" in
  fresh)
    git clone -q "$root" "$work/clone"
    rc=0
    env -u TICKSPLIT_BUILD_DIR TICKSPLIT_DEMO_HISTORY="$work/history.jsonl" "$work/clone/scripts/demo" \
      >"$work/out" 2>&1 || rc=$?
    [ -x "$work/clone/build/agent/ticksplit-agent" ] || fail "the clone was not built in its own tree"
    cat "$work/out"
    [ "$rc" -eq 0 ] || fail "exit status $rc"
    grep -Eq '^  fault 3 \(above the window, [0-9]+ ms\): [1-9][0-9]* nodedowns' "$work/out" ||
      fail "the summary does not report nodedowns for the above-window fault"
    # fault 3's links, in the controller's summary: one went down on a tick timeout
    awk '/^fault 3 /{on=1; next} /^[^ ]/{on=0} on' "$work/out" | grep -q 'saw net_tick_timeout' ||
      fail "the controller's summary shows no net_tick_timeout nodedown for fault 3"
    grep -q '^  now: one singleton, on app@198.51.100.1' "$work/out" || fail "no final singleton line"
    # The clients' register: the checker's verdict, the fault it names, and per fault whether
    # operations around it were anomalous (a drop below the window leaves no nodedown, hence
    # one singleton and no anomaly; above it, the other side creates its own singleton,
    # whose registers start unset).
    grep -q '^verdict: invalid$' "$work/out" || fail "the checker did not find the register invalid"
    grep -Eq '^    faults: fault [23] \(groups, (in|above)_window, [0-9]+ ms\) (active|healed)' "$work/out" ||
      fail "no anomaly names the in- or above-window fault"
    grep -Eq '^  fault 1 \(below the window, [0-9]+ ms\): .*clients: [1-9][0-9]* operations around it, no anomaly$' "$work/out" ||
      fail "the below-window fault should leave the clients' operations linearizable"
    grep -Eq '^  fault 3 \(above the window, [0-9]+ ms\): .*clients: [1-9][0-9]* operations around it, ANOMALOUS' "$work/out" ||
      fail "the above-window fault should make the clients' operations anomalous"
    grep -Eq "^  clients' register: invalid: .* cannot be linearized" "$work/out" || fail "no verdict in the summary"
    [ "$(jq -s '[.[] | select(.kind == "op")] | length' "$work/history-ops.jsonl")" -gt 100 ] ||
      fail "fewer than 100 operation events in the clients' history"
    grep -q "== the history: $work/history.jsonl" "$work/out" || fail "the demo does not say where the history is"
    grep -q "== the report: $work/history.html" "$work/out" || fail "the demo does not say where the report is"
    [ "$(grep -o '<g class="fault[ "]' "$work/history.html" | wc -l)" -eq 3 ] || fail "the report does not draw the 3 faults"
    grep -q '<rect class="anomaly"' "$work/history.html" || fail "the report does not show the checker's anomalies"
    [ "$(jq -s '[.[] | select(.kind == "nodedown")] | length' "$work/history.jsonl")" -gt 0 ] ||
      fail "no nodedown in the history"
    [ "$(jq -s '[.[] | select(.kind == "fault_end")] | length' "$work/history.jsonl")" -eq 3 ] ||
      fail "not 3 faults in the history"
    ;;

  sigint)
    # The already-built tree, so that the signal lands during the schedule, not the build.
    setsid env TICKSPLIT_BUILD_DIR="${TICKSPLIT_BUILD_DIR:-$root/build}" \
      TICKSPLIT_DEMO_HISTORY="$work/history.jsonl" "$root/scripts/demo" >"$work/out" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
      grep -q '^  fault 1 ' "$work/out" 2>/dev/null && [ -s "$work/history.jsonl" ] && break
      sleep 0.05
    done
    grep -q '^  fault 1 ' "$work/out" || { cat "$work/out"; fail "the schedule never started"; }
    kill -INT -- "-$pid"
    rc=0
    wait "$pid" || rc=$?
    cat "$work/out"
    [ "$rc" -eq 130 ] || fail "exit status $rc, expected 130"
    grep -q '== tearing down' "$work/out" || fail "no teardown"
    ;;
  *) fail "unknown case" ;;
esac
"$root/tests/integration/left_nothing.sh" tsdemo || fail "the demo left something behind"
echo "PASS demo $case"
