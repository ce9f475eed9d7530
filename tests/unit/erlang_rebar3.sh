#!/usr/bin/env bash
# erlang/ is a standard rebar3 application: a copy of it compiles, passes its EUnit tests and
# builds its edoc with rebar3 alone (no dependencies to fetch). The tests read the golden
# vectors of tests/data (TICKSPLIT_TEST_DATA) and run ticksplit-ctl check (TICKSPLIT_CTL, set
# by ctest).
set -euo pipefail
src=$(cd "$(dirname "$0")/../../erlang" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/ticksplit"
cd "$work/ticksplit"
export HOME=$work REBAR_OFFLINE=1 TICKSPLIT_TEST_DATA="$src/../tests/data"
rebar3 do compile, eunit, edoc
for m in ticksplit ticksplit_gen ticksplit_groups ticksplit_window ticksplit_watcher \
         ticksplit_json ticksplit_ops ticksplit_client ticksplit_workload ticksplit_nemesis \
         ticksplit_check ticksplit_register_server ticksplit_register_client ticksplit_mnesia_client; do
  [ -f "_build/default/lib/ticksplit/ebin/$m.beam" ] || { echo "FAIL: $m.beam not built"; exit 1; }
  [ -f "doc/$m.html" ] || { echo "FAIL: no edoc for $m"; exit 1; }
done
echo "PASS rebar3 compile, eunit, edoc"
