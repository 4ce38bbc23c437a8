#!/usr/bin/env bash
# bench/profile/run.sh <out-dir> <seconds> <wrk args...>: starts the gateway (env from the caller:
# PORT, SGW_* ...) under `node --cpu-prof` on core 0, runs wrk on core 1 for <seconds> after 3 s of
# warm-up, stops the gateway (the profile is written at exit) and prints the top self-time functions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1; seconds=$2; shift 2
mkdir -p "$out"
taskset -c 0 node --cpu-prof --cpu-prof-dir="$out" "$here/../../apps/gateway/bin/sgw-gateway.mjs" >"$out/gateway.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
${PROFILE_SETUP:-true}
taskset -c 1 wrk -t1 -c32 -d3s "$@" >/dev/null
taskset -c 1 wrk -t1 -c32 -d"${seconds}s" "$@" | grep -E 'Requests/sec|Non-2xx|Socket' || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
kill -TERM "$pid"; wait "$pid" || true
node "$here/top.mjs" "$(ls -t "$out"/*.cpuprofile | head -1)" "${TOP:-20}"
