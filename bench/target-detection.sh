#!/bin/bash
# The detection table: runs `harness run @target --target URL [--adapter A]` against a server started
# by START (a command printing "listening on http://…"), once per bug variant, and prints which checks
# failed and how long each run took. Usage:
#   bench/target-detection.sh "npx tsx server/main.ts --port 0 --broken" "" skip-stale-check split-push-transactions
#   (the variant name is appended to START; "none" runs it without one)
set -uo pipefail
START=$1; ADAPTER=$2; shift 2
for variant in "$@"; do
  log=$(mktemp)
  if [ "$variant" = none ]; then cmd=${START% --*}; else cmd="$START $variant"; fi
  setsid $cmd >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$log" && break; sleep 0.1; done
  url=$(grep -o "http://127.0.0.1:[0-9]*" "$log" | head -1)
  t0=$(date +%s.%N)
  out=$(timeout 300 node bin/harness.js run @target --target "$url" ${ADAPTER:+--adapter "$ADAPTER"} --reporter line --seed 1 2>&1)
  t1=$(date +%s.%N)
  failed=$(echo "$out" | grep -o "check [a-z:-]*" | sort -u | sed 's/check //' | tr '\n' ' ')
  printf '%-26s %6.1fs  failed: %s\n' "$variant" "$(echo "$t1 - $t0" | bc)" "${failed:-none}"
  kill -- -$pid 2>/dev/null; wait $pid 2>/dev/null
  rm -f "$log"
done
