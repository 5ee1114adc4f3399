#!/usr/bin/env bash
# `make test-under-load`: the README's test command while two CPU-bound processes compete for the cores,
# as on a busy CI runner (issue #12). The burners are killed however the tests end; the exit code is the tests'.
set -uo pipefail
cd "$(dirname "$0")/.."
burners=()
for _ in 1 2; do node -e 'for(;;){Math.sqrt(Math.random())}' & burners+=($!); done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
echo "test-under-load: 2 CPU burners running (pids ${burners[*]}); load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
npx vitest run "$@"; rc=$?
echo "test-under-load: exit $rc in $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
