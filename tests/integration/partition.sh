#!/usr/bin/env bash
# Partition cases against the shared 3-host cluster: partition.sh CASE [ARGS].
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
case=${1:?usage: partition.sh CASE [ARGS]}
shift
if [ "$case" = sigkill ] || [ "$case" = pause_sigkill ] || [ "$case" = pause_guard_killed ] ||
   [ "$case" = kill_restart ] || [ "$case" = kill_agent_killed ] ||
   [ "$case" = stress_sigkill ]; then
  set -- "$("$cluster" state-dir)" "${TICKSPLIT_NS_PREFIX:-tsplit}"
fi
exec "$cluster" escript "$root/tests/integration/partition_cases.escript" "$case" "$@"
