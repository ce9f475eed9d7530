#!/usr/bin/env bash
# Call-timeout classes against a 3-host cluster with net_ticktime 20 s (ctest fixture
# cluster20): call_timeout.sh CLASS. ticksplit-ctl runs the fault; the escript checks the calls.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/cluster
ctl=${TICKSPLIT_CTL:-$root/build/controller/ticksplit-ctl}
exec "$cluster" escript "$root/tests/integration/call_timeout_cases.escript" "${1:?usage: call_timeout.sh CLASS}" \
  "$ctl" "$("$cluster" state-dir)"
