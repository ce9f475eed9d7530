#!/usr/bin/env bash
# Runs the code examples of README.md and docs/ against the 3-host cluster (scripts/cluster up 3,
# set up by the ctest fixture), as written there: the Erlang ones through
# readme_examples.escript, the Elixir one under ExUnit (Debian's elixir), the schedule through
# `ticksplit-ctl plan`. Prints PASS/FAIL; exit 0/1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
state=$("$cluster" state-dir)
ebin=${TICKSPLIT_EBIN:-$root/build/erlang/ebin}
export TICKSPLIT_CTL=${TICKSPLIT_CTL:-$root/build/controller/ticksplit-ctl}
ctl=$TICKSPLIT_CTL
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL readme: $*"; exit 1; }

# Every fenced block of a language in README.md and docs/*.md, one file each: $work/LANG.N
extract() {
  awk -v lang="$1" -v dir="$work" '
    { sub(/\r$/, "") }
    !inside && $0 ~ ("^[ \t]*```" lang "[ \t]*$") { n++; out = dir "/" lang "." n; inside = 1; next }
    inside && /^[ \t]*```/ { inside = 0; close(out); next }
    inside { print > out }' "$root/README.md" "$root"/docs/*.md
}

# Every fence names a language this test runs (erlang, elixir, yaml) or one it need not
# (sh: the commands CI runs; json, text or none: data and output), so no example is skipped
# by a spelling (erl, ex, yml).
unknown=$(grep -hoE '^[[:space:]]*```[A-Za-z0-9_+-]+' "$root/README.md" "$root"/docs/*.md |
  sed 's/^[[:space:]]*```//' | grep -vxE 'erlang|elixir|yaml|sh|json|text' | sort -u || true)
[ -z "$unknown" ] || fail "code blocks in a language this test does not know: $unknown"

"$cluster" escript "$root/tests/integration/readme_examples.escript" "$root" "$ebin"

extract elixir
n=$(ls "$work"/elixir.* 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "no Elixir example found"
for f in "$work"/elixir.*; do
  {
    echo 'ExUnit.start(autorun: true)'
    echo 'defmodule ReadmeExample do'
    echo '  use ExUnit.Case'
    echo '  @moduletag timeout: 60_000'
    echo '  test "the README example" do'
    sed 's/^/    /' "$f"
    echo '  end'
    echo 'end'
  } >"$f.exs"
  echo "== Elixir example: $(head -1 "$f")"
  "$cluster" exec ctl env HOME="$state" elixir --name "readme_ex_$$@198.51.100.1" \
    --cookie "$(cat "$state/cookie")" --erl "-kernel net_ticktime ${TICKSPLIT_TICKTIME:-2}" \
    -pa "$ebin" "$f.exs" || fail "the Elixir example $f failed"
done
"$cluster" escript "$root/tests/integration/agent_cases.escript" restore_mesh >/dev/null ||
  fail "the mesh did not come back after the Elixir example"

extract yaml
n=$(ls "$work"/yaml.* 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "no schedule example found"
for f in "$work"/yaml.*; do
  echo "== schedule example: $(head -1 "$f")"
  "$cluster" exec ctl "$ctl" plan "$f" --cookie-file "$state/cookie" --seed 1 >"$f.plan" ||
    { cat "$f.plan"; fail "ticksplit-ctl plan refused the schedule example $f"; }
  grep -q '^  fault 1 ' "$f.plan" || { cat "$f.plan"; fail "no fault planned from $f"; }
done
echo "PASS readme (Erlang, Elixir and schedule examples)"
