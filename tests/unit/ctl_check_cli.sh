#!/usr/bin/env bash
# `ticksplit-ctl check` end to end on the fixtures of tests/data/history/: exit codes 0 valid,
# 1 invalid, 3 unknown, 2 usage or malformed history, and the lines people and scripts read.
# Usage: ctl_check_cli.sh PATH/TO/ticksplit-ctl PATH/TO/tests/data/history
set -uo pipefail
ctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # the script changes directory
data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect CODE ARGS...: runs `ticksplit-ctl check ARGS...`, output in $work/out and $work/err
expect() {
  local want=$1
  shift
  "$ctl" check "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: check $* exited $got, expected $want"
    sed 's/^/  | /' "$work/out" "$work/err"
    failures=$((failures + 1))
  fi
}

# has FILE TEXT: the output (out or err) holds the line fragment
has() {
  if ! grep -qF -- "$2" "$work/$1"; then
    echo "FAIL: $1 lacks: $2"
    sed 's/^/  | /' "$work/$1"
    failures=$((failures + 1))
  fi
}

last_line_is() {
  local last
  last=$(tail -n 1 "$work/out")
  if [ "$last" != "$1" ]; then
    echo "FAIL: last line is '$last', expected '$1'"
    failures=$((failures + 1))
  fi
}

cd "$data" || exit 1

expect 0 register_valid.jsonl --model register
has out "model register, 1 history file, 11 operations, no keys"
last_line_is "verdict: valid"

expect 1 register_invalid_with_fault.jsonl --model register
has out 'key "k1": invalid, 4 operations'
has out "first operation that cannot be linearized: process 2 read -> 1, 1.500..1.600 s (register_invalid_with_fault.jsonl:10)"
has out "faults: fault 1 (groups, in_window, 1957 ms) active; nodedowns: app@198.51.100.12 saw app@198.51.100.11 down (net_tick_timeout) at 1.400 s"
has out 'key "k2": valid'
has out '  fault 2 (groups, below_window, 635 ms) 6.000..6.635 s: 2 operations around it, no anomaly'
last_line_is "verdict: invalid"

expect 1 register_invalid_with_fault.jsonl --model register --json
has out '"verdict": "invalid"'
has out '"relation": "active"'
has out '"where": "register_invalid_with_fault.jsonl:10"'
# jq is one of scripts/deps' packages: the structure, not just the text
[ "$(jq '.keys[0].anomalies[0].faults[0].number' <"$work/out")" = 1 ] ||
  { echo "FAIL: --json is not the expected document"; failures=$((failures + 1)); }

expect 1 register_healed_before.jsonl --model register
has out "healed 1.000 s before (at 2.000 s)"
expect 1 register_healed_before.jsonl --model register --window-ms 3000
has out "detection window: 3000 ms (--window-ms)"
has out "fault 1 (isolate, below_window, 200 ms) healed 2.700 s before"

expect 0 jepsen_register.edn --model cas-register
expect 1 jepsen_records.edn --model register
expect 1 jepsen_independent.edn --model kv
has out "key 1: valid"
has out "key 2: invalid"
expect 1 jepsen_independent.edn --model cas-register --independent
has out "key 2: invalid"

expect 0 set.jsonl --model set
expect 1 set_lost.jsonl --model set
has out "  lost (1): 3"
expect 3 set_unread.jsonl --model set
has out "history: unknown (no ok read)"
last_line_is "verdict: unknown"
expect 0 counter.jsonl --model counter
expect 0 queue.jsonl --model queue

expect 2 bad_json_line3.jsonl --model register
has err "ticksplit-ctl: bad_json_line3.jsonl:3: not JSON: "
expect 2 register_valid.jsonl --model set
has err "ticksplit-ctl: register_valid.jsonl:1: model set has no operation write"
expect 2 register_valid.jsonl --model linearizable
has err "unknown model 'linearizable'"
expect 2 register_valid.jsonl
has err "--model is required"
expect 2 --model register
has err "at least one history file is required"
expect 2 no_such_file.jsonl --model register
has err "ticksplit-ctl: no_such_file.jsonl: cannot open: "
expect 2 register_valid.jsonl --model register --max-ms 0
has err "--max-ms must be 1..1099511627776"
expect 2 register_valid.jsonl --model register --window-ms 86400001
has err "--window-ms must be 0..86400000"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS ticksplit-ctl check"
