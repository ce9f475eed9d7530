#!/usr/bin/env bash
# Who may command an agent: --allow, --allow-from and --listen on a 2-host cluster of its own
# (scripts/cluster up 2 with TICKSPLIT_NS_PREFIX=tsa, set up by the ctest fixture). Each case
# restarts host 1's agent with the flag (TICKSPLIT_AGENT_ARGS), checks, and restores the
# standard agent. Usage: access.sh allow | allow_from | listen | listen6. Prints PASS/FAIL; exit 0/1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
cases=$root/tests/integration/access_cases.escript
state=$("$cluster" state-dir)
agent=${TICKSPLIT_AGENT:-$root/build/agent/ticksplit-agent}
log=$state/h1/agent.log

fail() { echo "FAIL $case: $*"; exit 1; }
escript_case() { "$cluster" escript "$cases" "$@"; }
# The log lines written since `before` (a line count).
new_lines() { tail -n +"$((before + 1))" "$log"; }

restart_agent() {
  "$cluster" stop-agent 1
  TICKSPLIT_AGENT_ARGS="$1" "$cluster" start-agent 1
}
restore() {
  "$cluster" stop-agent 1
  "$cluster" start-agent 1
  escript_case joined >/dev/null
}

case=${1:?usage: access.sh CASE}
trap restore EXIT
before=$(wc -l <"$log")
case "$case" in
  allow)
    restart_agent "--allow app@198.51.100.1*"
    out=$(escript_case allow) || fail "$out"
    me=$(sed -n 's/^refused [0-9]* calls from \(.*\)$/\1/p' <<<"$out")
    [ -n "$me" ] || fail "no caller name in: $out"
    lines=$(new_lines | grep -F "$me" | grep -c "not_allowed" || true)
    [ "$lines" -eq 1 ] || fail "$lines log lines name the refused $me (want exactly 1 for 50 calls)"
    new_lines | grep -F "$me" | grep "not_allowed"
    # ticksplit-ctl (named ticksplit_ctl_status_...: no match either) says why, exit 1.
    if [ -n "${TICKSPLIT_CTL:-}" ]; then
      rc=0
      out=$("$cluster" exec ctl "$TICKSPLIT_CTL" status --agent ticksplit@198.51.100.11 \
        --cookie-file "$state/cookie" 2>&1) || rc=$?
      [ "$rc" -eq 1 ] && grep -q "ticksplit@198.51.100.11: not_allowed: the agent serves only" <<<"$out" ||
        fail "ticksplit-ctl status refused: exit $rc: $out"
      echo "$out"
    fi
    echo "PASS allow (matching app@198.51.100.12 served, $me refused 50 times, 1 log line)"
    ;;

  allow_from)
    restart_agent "--allow-from 198.51.100.1/32"
    escript_case allow_from
    lines=$(new_lines | grep -c "refused a connection from 198.51.100.12/32" || true)
    [ "$lines" -eq 1 ] || fail "$lines log lines name the refused peer 198.51.100.12 (want exactly 1)"
    new_lines | grep "refused a connection from"
    echo "PASS allow_from (198.51.100.1 served, 198.51.100.12 refused at connect, 1 log line)"
    ;;

  listen)
    # An address not on the host: bind fails, exit 2, the address named. (No agent runs in
    # host 1 meanwhile: one agent per namespace.)
    "$cluster" stop-agent 1
    rc=0
    err=$("$cluster" exec 1 timeout 20 "$agent" --node app@198.51.100.11 --cookie-file "$state/cookie" --state-dir "" \
      --name ticksplit@198.51.100.99 --listen 198.51.100.99 2>&1 </dev/null) || rc=$?
    [ "$rc" -eq 2 ] || fail "--listen 198.51.100.99 (not on the host): exit $rc, want 2: $err"
    grep -q "198.51.100.99 (not an address of this host)" <<<"$err" || fail "the bind failure does not say why: $err"
    rc=0
    err=$("$cluster" exec 1 timeout 20 "$agent" --node app@198.51.100.11 --cookie-file "$state/cookie" --state-dir "" \
      --listen localhost 2>&1 </dev/null) || rc=$?
    [ "$rc" -eq 2 ] && grep -q -- "--listen" <<<"$err" || fail "--listen localhost: exit $rc: $err"

    TICKSPLIT_AGENT_ARGS="--listen 198.51.100.11" "$cluster" start-agent 1
    pid=$(cat "$state/h1/agent.pid")
    escript_case joined  # it joined its node and serves requests over 198.51.100.11
    port=$("$cluster" exec 1 epmd -names | sed -n 's/^name ticksplit at port \([0-9]*\)$/\1/p')
    [ -n "$port" ] || fail "the agent is not registered with epmd"
    sockets=$("$cluster" exec 1 ss -Hltnp | grep "pid=$pid," || true)
    echo "$sockets"
    [ "$(grep -c . <<<"$sockets")" -eq 1 ] || fail "the agent listens on more than one socket: $sockets"
    grep -qE "^LISTEN +[0-9]+ +[0-9]+ +198\.51\.100\.11:$port " <<<"$sockets" ||
      fail "the agent's listening socket is not 198.51.100.11:$port: $sockets"
    # Another address of the same host, the same port: refused (the default socket, on
    # 0.0.0.0, would take it).
    if "$cluster" exec 1 timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      fail "a connection to 127.0.0.1:$port was accepted"
    fi
    echo "PASS listen (198.51.100.11:$port only; 127.0.0.1:$port refused; bad addresses exit 2)"
    ;;

  listen6)
    # An IPv6 address: the agent named by it listens there only, joins its node (over IPv4,
    # outgoing), and an IPv6 node reaches it; the host's IPv4 address on that port is refused.
    name=ticksplit@2001:db8::11
    restart_agent "--name $name --listen 2001:db8::11"
    pid=$(cat "$state/h1/agent.pid")
    probe() {  # a hidden node on inet6_tcp in the control namespace: ping and status
      "$cluster" exec ctl env HOME="$state" timeout 30 erl -proto_dist inet6_tcp -name "probe6_$$@2001:db8::1" \
        -hidden -noshell -eval "io:format(\"~p ~p~n\", [net_adm:ping('$name'),
          catch gen_server:call({ticksplit, '$name'}, status, 2000)]), halt()."
    }
    for _ in $(seq 100); do
      out=$(probe 2>&1) || true
      grep -q "connected => true" <<<"$out" && break
      sleep 0.2
    done
    grep -q "^pong {ok," <<<"$out" && grep -q "connected => true" <<<"$out" ||
      fail "an IPv6 node is not served, or the agent did not join its node: $out"
    port=$("$cluster" exec 1 epmd -names | sed -n 's/^name ticksplit at port \([0-9]*\)$/\1/p')
    sockets=$("$cluster" exec 1 ss -Hltnp | grep "pid=$pid," || true)
    echo "$sockets"
    [ "$(grep -c . <<<"$sockets")" -eq 1 ] && grep -qE "^LISTEN +[0-9]+ +[0-9]+ +\[2001:db8::11\]:$port " <<<"$sockets" ||
      fail "the agent's listening socket is not [2001:db8::11]:$port: $sockets"
    if "$cluster" exec ctl timeout 5 bash -c "exec 3<>/dev/tcp/198.51.100.11/$port" 2>/dev/null; then
      fail "a connection to 198.51.100.11:$port was accepted"
    fi
    echo "PASS listen6 ([2001:db8::11]:$port only, served over IPv6; 198.51.100.11:$port refused)"
    ;;

  *)
    fail "unknown case"
    ;;
esac
