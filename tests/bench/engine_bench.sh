#!/usr/bin/env bash
# Runs engine_bench in two fresh namespaces joined by a veth pair (198.51.100.201 <->
# .202), then removes them. Figures go to stdout and $TICKSPLIT_BENCH_DIR/partition_engine.txt.
set -euo pipefail
bench=${1:?usage: engine_bench.sh PATH_TO_engine_bench}
a=tsbench-a b=tsbench-b
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add "$a"
ip netns add "$b"
ip -n "$a" link add veth-a type veth peer name veth-b netns "$b"
ip -n "$a" addr add 198.51.100.201/24 dev veth-a
ip -n "$b" addr add 198.51.100.202/24 dev veth-b
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set veth-a up
ip -n "$b" link set veth-b up
out=${TICKSPLIT_BENCH_DIR:-/tmp}/partition_engine.txt
mkdir -p "$(dirname "$out")"
ip netns exec "$a" "$bench" veth-a 198.51.100.201 198.51.100.202 "/run/netns/$b" | tee "$out"
