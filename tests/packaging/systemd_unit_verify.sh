#!/usr/bin/env bash
# packaging/systemd/ticksplit-agent.service passes `systemd-analyze verify` with nothing said:
# verify exits 0 on an unknown directive or a bad value (it only warns, "..., ignoring"), so
# any line of output about the unit fails the test too. The unit names the installed agent;
# verify wants its executables to exist, so a copy points at the build's agent. A copy with a
# misspelt directive must fail the same check (the check can fail), and the exposure score of
# `systemd-analyze security --offline=yes` is printed, not asserted.
#   systemd_unit_verify.sh UNIT AGENT
set -euo pipefail
unit=${1:?usage: systemd_unit_verify.sh UNIT AGENT}
agent=${2:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/good" "$work/bad"
sed "s|/usr/bin/ticksplit-agent|$agent|g" "$unit" >"$work/good/ticksplit-agent.service"
sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$work/good/ticksplit-agent.service" >"$work/bad/ticksplit-agent.service"
grep -q '^NoNewPrivilege=' "$work/bad/ticksplit-agent.service" || fail "the broken copy is not broken"

# Prints what verify said; fails if it failed or said anything.
verify() {
  local out rc=0
  out=$(systemd-analyze verify --man=no "$1" 2>&1) || rc=$?
  [ -z "$out" ] || echo "$out"
  [ "$rc" -eq 0 ] && [ -z "$out" ]
}
verify "$work/good/ticksplit-agent.service" || fail "systemd-analyze verify rejects the unit"
echo "verify: the unit passes"
if out=$(verify "$work/bad/ticksplit-agent.service"); then
  fail "verify did not notice a misspelt directive"
fi
echo "verify of a copy with a misspelt directive fails, as it should: $out"

# systemd 252 has --offline; print only the overall figure.
if security=$(systemd-analyze security --offline=yes "$work/good/ticksplit-agent.service" 2>&1); then
  grep -i 'overall exposure' <<<"$security" || echo "$security" | tail -3
else
  echo "systemd-analyze security --offline=yes did not run: $(tail -1 <<<"$security")"
fi
