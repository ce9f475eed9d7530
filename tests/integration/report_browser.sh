#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium loads a report made from recorded
# histories (the demo's run and its clients' operations) from a file URL, and the DOM it
# rendered has one window per fault, a mark per node event, a summary row per fault and a lane
# per client process, counted from the histories with jq. The screenshot is kept as an artifact
# (build/test-artifacts/report.png). Usage: report_browser.sh TICKSPLIT_CTL
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ctl=${1:?usage: report_browser.sh TICKSPLIT_CTL}
artifacts=${TICKSPLIT_ARTIFACTS:-$root/build/test-artifacts}
run=$root/tests/data/report/demo_run.jsonl
ops=$root/tests/data/report/demo_ops.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL report_browser: $*"; exit 1; }
command -v chromium >/dev/null || fail "chromium is not installed (scripts/deps installs it)"

"$ctl" report "$run" "$ops" --model register -o "$work/report.html" >/dev/null
browse() {
  # A fresh profile each time; nothing in the page is fetched, and Chromium's own background
  # traffic is turned off (the test hosts have no route out anyway).
  timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$(mktemp -d -p "$work")" "$@" \
    "file://$work/report.html" 2>"$work/chromium.log"
}
browse --dump-dom >"$work/dom.html" || { cat "$work/chromium.log"; fail "chromium could not load the report"; }
count() { grep -o "$1" "$work/dom.html" | wc -l; }
faults=$(jq -s '[.[] | select(.kind == "fault_start")] | length' "$run" "$ops")
node_events=$(jq -s '[.[] | select(.kind == "nodeup" or .kind == "nodedown")] | length' "$run" "$ops")
processes=$(jq -s '[.[] | select(.kind == "op") | .process] | unique | length' "$run" "$ops")
[ "$faults" -gt 0 ] && [ "$node_events" -gt 0 ] && [ "$processes" -gt 0 ] || fail "the recorded histories are empty"
[ "$(count '<g class="fault[ "]')" -eq "$faults" ] || fail "$(count '<g class="fault[ "]') fault windows rendered, $faults faults"
[ "$(count 'class="mark node-event')" -eq "$node_events" ] ||
  fail "$(count 'class="mark node-event') node event marks rendered, $node_events node events"
[ "$(count 'class="summary-row"')" -eq "$faults" ] || fail "$(count 'class="summary-row"') summary rows, $faults faults"
[ "$(count '<g class="op-lane"')" -eq "$processes" ] || fail "$(count '<g class="op-lane"') operation lanes, $processes processes"
[ "$(count '<title>')" -gt "$node_events" ] || fail "marks without hover text"
anomalies=$("$ctl" check "$run" "$ops" --model register --json | jq '[.keys[].anomalies[]] | length' || true)
[ "$anomalies" -gt 0 ] || fail "the recorded run should have anomalies"
[ "$(count '<rect class="anomaly"')" -eq "$anomalies" ] || fail "$(count '<rect class="anomaly"') anomalies drawn, check found $anomalies"
mkdir -p "$artifacts"
browse --window-size=1450,1600 --screenshot="$artifacts/report.png" >/dev/null ||
  { cat "$work/chromium.log"; fail "no screenshot"; }
[ -s "$artifacts/report.png" ] || fail "empty screenshot"
echo "PASS report_browser ($faults fault windows, $node_events node event marks, $faults summary rows," \
  "$processes operation lanes, $anomalies anomalies rendered; screenshot $artifacts/report.png)"
