#!/usr/bin/env bash
# bench/profile/run.sh <out-dir> <seconds> <wrk args...>: starts the gateway (env from the caller:
# PORT, SGW_* ...) on core 0, under `node --cpu-prof` unless NOPROF=1, runs wrk on core 1 for
# <seconds> after 3 s of warm-up, and prints req/s, the gateway's CPU (user + system, from
# /proc/<pid>/stat) per request over those seconds, and the load average; then stops the gateway
# (the profile is written at exit) and prints the top self-time functions of its main thread.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1; seconds=$2; shift 2
mkdir -p "$out"
prof=(--cpu-prof --cpu-prof-dir="$out")
[ -n "${NOPROF:-}" ] && prof=()
taskset -c 0 node "${prof[@]}" "$here/../../apps/gateway/bin/sgw-gateway.mjs" >"$out/gateway.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
taskset -c 1 wrk -t1 -c32 -d3s "$@" >/dev/null
t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
text=$(taskset -c 1 wrk -t1 -c32 -d"${seconds}s" "$@")
t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
n=$(echo "$text" | grep -oP '\d+(?= requests in)')
echo "$(echo "$text" | grep -oP 'Requests/sec:\s+\K[\d.]+') req/s, $(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $n" | bc -l | cut -c1-7) us CPU per request, non-2xx/socket errors: $(echo "$text" | grep -E 'Non-2xx|Socket' | tr '\n' ' '), load average $(cut -d' ' -f1-3 /proc/loadavg)"
kill -TERM "$pid"; wait "$pid" || true
[ -n "${NOPROF:-}" ] || node "$here/top.mjs" "$(ls -S "$out"/*.cpuprofile | head -1)" "${TOP:-20}"
