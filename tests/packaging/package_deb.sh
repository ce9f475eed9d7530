#!/usr/bin/env bash
# The Debian packages, built and installed on this machine (root), then purged:
#   - scripts/package --from BUILD makes ticksplit-agent, ticksplit-ctl, ticksplit-erlang;
#   - every shared library an ELF file of a package loads (readelf NEEDED) belongs (dpkg -S) to
#     a package its Depends names, so dpkg-shlibdeps really computed them;
#   - apt-get install ./*.deb; the installed agent and controller print the project's version,
#     the agent finds its guards in libexec, the ticksplit user exists, agent.conf is a
#     conffile, the installed unit passes systemd-analyze verify, erl finds the library;
#   - apt-get purge removes them all (also when a check fails: the trap), and the user the
#     test made.
#   package_deb.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail
root=${1:?usage: package_deb.sh SOURCE_DIR BUILD_DIR VERSION}
build=${2:?}
version=${3:?}
names=(ticksplit-agent ticksplit-ctl ticksplit-erlang)
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (apt-get install)"
for n in "${names[@]}"; do
  ! dpkg-query -W "$n" >/dev/null 2>&1 || fail "$n is already installed here; this test would remove it"
done
user_existed=0
getent passwd ticksplit >/dev/null && user_existed=1

work=$(mktemp -d)
cleanup() {
  apt-get purge -y -qq -o DPkg::Lock::Timeout=120 "${names[@]}" >/dev/null 2>&1 || true
  [ "$user_existed" -eq 1 ] || userdel ticksplit 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
mapfile -t debs < <("$root/scripts/package" --from "$build")
echo "built in $((SECONDS - start)) s: ${debs[*]}"
[ "${#debs[@]}" -eq 3 ] || fail "expected 3 packages, got ${#debs[@]}"
deb_of() { for d in "${debs[@]}"; do [[ $(basename "$d") == "$1"_* ]] && echo "$d"; done; return 0; }

# Depends covers every NEEDED library of every ELF file in the package.
for n in "${names[@]}"; do
  deb=$(deb_of "$n")
  [ -n "$deb" ] || fail "no $n package"
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "$n Depends: $depends"
  # Package names alone: alternatives and versions dropped.
  dep_names=" $(echo "$depends" | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/[[:space:]]//g' | tr '\n' ' ') "
  dpkg-deb -x "$deb" "$work/$n"
  elves=0
  while IFS= read -r -d '' f; do
    readelf -h "$f" >/dev/null 2>&1 || continue
    elves=$((elves + 1))
    for lib in $(readelf -d "$f" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
      path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64/ {print $NF; exit}')
      [ -n "$path" ] || fail "$n: ${f#"$work/$n"} needs $lib, which is not installed here"
      owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path") || fail "$n: no package owns $path"
      owner=${owner%%:*}
      # The package itself or a virtual package it provides (libspdlog1.10 provides
      # libspdlog1.10-fmt9, which its shlibs file names).
      satisfied=0
      for p in "$owner" $(dpkg-query -W -f='${Provides}' "$owner" | tr ',' '\n' | sed -E 's/\(.*\)//; s/[[:space:]]//g'); do
        [[ $dep_names == *" $p "* ]] && satisfied=1
      done
      [ "$satisfied" -eq 1 ] || fail "$n: ${f#"$work/$n"} needs $lib ($owner), not in Depends: $depends"
    done
  done < <(find "$work/$n" -type f -print0)
  echo "$n: $elves ELF files, their libraries all in Depends"
  case $n in
    ticksplit-erlang) [ "$elves" -eq 0 ] || fail "$n holds ELF files"
                      [[ $dep_names == *" erlang-base "* ]] || fail "$n does not depend on erlang-base" ;;
    *) [ "$elves" -ge 1 ] && [ -n "$depends" ] || fail "$n: no binaries or no Depends" ;;
  esac
done

start=$SECONDS
apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${debs[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
echo "installed in $((SECONDS - start)) s"

out=$(/usr/bin/ticksplit-agent --version)
echo "$out"
[ "$(sed -n 1p <<<"$out")" = "ticksplit-agent $version" ] || fail "agent version: $out"
for g in pause kill; do
  path=$(sed -nE "s/^$g guard: //p" <<<"$out")
  [ "$path" = /usr/libexec/ticksplit/ticksplit-$g-guard ] || fail "the agent looks for its $g guard at '$path'"
  [ -x "$path" ] || fail "$path is not installed"
done
[ ! -e /usr/bin/ticksplit-pause-guard ] || fail "a guard is on the PATH"
out=$(/usr/bin/ticksplit-ctl --version)
[ "$out" = "ticksplit-ctl $version" ] || fail "ctl version: $out"

[ "$(getent passwd ticksplit | cut -d: -f6,7)" = /nonexistent:/usr/sbin/nologin ] || fail "ticksplit user: $(getent passwd ticksplit)"
dpkg-query -W -f='${Conffiles}\n' ticksplit-agent | grep -q '^ /etc/ticksplit/agent.conf ' || fail "agent.conf is not a conffile"
# The shipped agent.conf parses: all its keys are options (and it has no node yet, so exit 2).
set +e
msg=$(/usr/bin/ticksplit-agent --config /etc/ticksplit/agent.conf 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] && [[ $msg == *"at least one --node"* ]] || fail "the installed agent.conf: exit $rc: $msg"

unit=/lib/systemd/system/ticksplit-agent.service
grep -q '^ExecStart=/usr/bin/ticksplit-agent --config /etc/ticksplit/agent.conf$' "$unit" || fail "$unit's ExecStart"
verify=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify $unit: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify $unit: $verify"

if command -v erl >/dev/null; then
  found=$(env -u ERL_LIBS erl -noshell -eval '
    ok = application:load(ticksplit),
    {ok, V} = application:get_key(ticksplit, vsn),
    io:format("~s ~s~n", [code:which(ticksplit_watcher), V]), halt().')
  [ "$found" = "/usr/lib/erlang/lib/ticksplit-$version/ebin/ticksplit_watcher.beam $version" ] ||
    fail "erl finds: $found"
  echo "erl: $found"
fi

apt-get purge -y -qq -o DPkg::Lock::Timeout=120 "${names[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get purge"; }
for f in /usr/bin/ticksplit-agent /usr/bin/ticksplit-ctl /usr/libexec/ticksplit /etc/ticksplit/agent.conf "$unit" \
         "/usr/lib/erlang/lib/ticksplit-$version"; do
  [ ! -e "$f" ] || fail "$f is still there after the purge"
done
echo "purged: nothing left"
