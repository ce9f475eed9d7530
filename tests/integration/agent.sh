#!/usr/bin/env bash
# Integration tests of ticksplit-agent against a real 3-host cluster (scripts/cluster up 3,
# set up by the ctest fixture). Usage: agent.sh CASE. Prints PASS/FAIL; exit 0/1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
cases=$root/tests/integration/agent_cases.escript
state=$("$cluster" state-dir)
agent=${TICKSPLIT_AGENT:-$root/build/agent/ticksplit-agent}

fail() { echo "FAIL $case: $*"; exit 1; }
escript_case() { "$cluster" escript "$cases" "$@"; }
now_ms() { date +%s%3N; }
epmd_names() { "$cluster" exec "$1" epmd -names; }

case=${1:?usage: agent.sh CASE}
case "$case" in
  hidden | status | events | logs | idle | many_addresses | unresolvable_requester)
    escript_case "$case"
    ;;

  slow_peer_dns)
    # Host 2's agent restarted with a resolver that never answers: `ip netns exec` mounts
    # /etc/netns/NS/resolv.conf over /etc/resolv.conf; it names the control address, where
    # the case holds a silent UDP socket on port 53.
    # The resolver's timeout (15 s) is past the agent's lookup deadline (10 s): the agent gives up first.
    ns=$("$cluster" exec 2 ip netns identify)
    [ -n "$ns" ] && [ ! -e "/etc/netns/$ns" ] || fail "/etc/netns/$ns exists: not ours to replace"
    made_etc_netns=$([ -d /etc/netns ] || echo yes)
    restore() {
      rm -rf "/etc/netns/$ns"
      [ -z "$made_etc_netns" ] || rmdir /etc/netns
      "$cluster" stop-agent 2
      "$cluster" start-agent 2
    }
    trap restore EXIT
    mkdir -p "/etc/netns/$ns"
    printf 'nameserver 198.51.100.1\noptions timeout:15 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
    "$cluster" stop-agent 2
    "$cluster" start-agent 2
    escript_case slow_peer_dns
    ;;

  forged_containers)
    escript_case forged_containers "$(cat "$state/h1/agent.pid")"
    ;;

  slow_clients)
    log=$state/h1/agent.log
    before=$(wc -l <"$log")
    escript_case slow_clients
    dropped=$(tail -n +"$((before + 1))" "$log" | grep -c "in handshake" || true)
    # 50 clients dropped or refused, one warning per 10 s: the log stays short
    [ "$dropped" -ge 1 ] || fail "no dropped handshake was logged"
    [ "$dropped" -le 3 ] || fail "$dropped warnings for dropped handshakes: not rate-limited"
    echo "PASS slow_clients ($dropped warning line(s) for 51 clients)"
    ;;

  bad_input)
    pid=$(cat "$state/h1/agent.pid")
    log=$state/h1/agent.log
    before=$(stat -c %s "$log")
    escript_case bad_input
    kill -0 "$pid" || fail "agent died"
    grep -q "to 'no_such_name' that this agent does not serve" "$log" || fail "message to an unserved name not logged"
    grep -q "bad From" "$log" || fail "gen_call with a bad From not logged"
    grep -q "undecodable message" "$log" || fail "undecodable message not logged"
    grep -q "to 'ticksplit' that this agent does not serve: hello" "$log" || fail "non-call message not logged"
    grep -q "above the limit of" "$log" || fail "a 10 MB message was not refused by its size"
    grep -q "with a From of <ghost@198.51.100.99.*refusing (forged)" "$log" || fail "a forged From was not refused"
    grew=$(( $(stat -c %s "$log") - before ))
    [ "$grew" -lt 65536 ] || fail "13 MB of peer binaries grew the log by $grew bytes"
    echo "PASS bad_input (agent $pid still running, every bad message logged)"
    ;;

  rejoin)
    escript_case rejoin "$cluster"
    ;;

  agent_restart)
    "$cluster" stop-agent 1
    "$cluster" start-agent 1
    escript_case one_watcher
    ;;

  sigterm)
    # Host 2's agent replaced by one that is our own child, so its exit status can be
    # collected; a fault is active when SIGTERM comes.
    name=sigterm@198.51.100.12
    "$cluster" stop-agent 2
    clsact() { "$cluster" exec 2 tc qdisc show dev eth0 | grep -c clsact || true; }
    filters() { "$cluster" exec 2 tc filter show dev eth0 "$1" | grep -c ticksplit_drop || true; }
    [ "$(clsact)" -eq 0 ] || fail "a clsact qdisc is on eth0 with no agent running"
    "$cluster" exec 2 "$agent" --node app@198.51.100.12 --name "$name" --cookie-file "$state/cookie" \
      --exempt 198.51.100.1 --state-dir "$state/h2" </dev/null >>"$state/h2/sigterm-agent.log" 2>&1 &
    pid=$!
    trap 'kill -KILL $pid 2>/dev/null || true; "$cluster" start-agent 2' EXIT
    escript_case joined "$name"
    epmd_names 2 | grep -q "name sigterm at port" || fail "agent not registered with epmd"
    [ "$(clsact)" -eq 1 ] && [ "$(filters ingress)" -eq 1 ] && [ "$(filters egress)" -eq 1 ] ||
      fail "expected the agent's clsact and one filter per hook on eth0"
    escript_case partition_for_a_minute "$name"
    t0=$(now_ms)
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    elapsed=$(($(now_ms) - t0))
    [ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
    [ "$elapsed" -lt 1000 ] || fail "took ${elapsed} ms to exit"
    if epmd_names 2 | grep -q "name sigterm at port"; then fail "still registered with epmd"; fi
    [ "$(clsact)" -eq 0 ] || fail "the clsact qdisc the agent created is still on eth0"
    [ "$(filters ingress)" -eq 0 ] && [ "$(filters egress)" -eq 0 ] || fail "a drop filter survived SIGTERM"
    grep -q "1 fault(s) healed on shutdown" "$state/h2/sigterm-agent.log" || fail "the active fault was not healed"
    [ ! -e "$state/h2/$name.faults.json" ] || fail "a clean exit left its fault ledger"
    escript_case gone "$name" app@198.51.100.12
    trap - EXIT
    "$cluster" start-agent 2
    escript_case joined ticksplit@198.51.100.12
    echo "PASS sigterm (exit 0 after ${elapsed} ms, fault healed, filters and clsact removed, unregistered, watcher gone)"
    ;;

  bench)
    # figures also go to $TICKSPLIT_BENCH_DIR, for scripts/test to print after the run
    out=${TICKSPLIT_BENCH_DIR:-/tmp}/status_rtt.txt
    mkdir -p "$(dirname "$out")"
    escript_case bench 2000 | tee "$out"
    ;;

  *)
    fail "unknown case"
    ;;
esac
