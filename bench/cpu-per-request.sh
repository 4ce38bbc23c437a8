#!/bin/bash
# CPU (user + system) per request of a gateway on the memory backend, under 32 connections of wrk:
# PUTs by default, the hot GET with GET=1. 3 s of warm-up, then 5 s measured from /proc/<pid>/stat.
# Run it against two builds alternately; CPU per request moves less with a noisy machine than req/s.
# usage: [GET=1] [BACKEND=memory] bench/cpu-per-request.sh <label>   (from the repository root)
set -euo pipefail
PORT=19301
KEY=bench-key-0123456789abcdef
D=$(mktemp -d)
PORT=$PORT HOST=127.0.0.1 SGW_API_KEY=$KEY SGW_MASTER_KEY=$(head -c32 /dev/urandom | base64) SGW_DATA_DIR=$D \
  SGW_BACKEND=${BACKEND:-memory} taskset -c 0 node apps/gateway/bin/sgw-gateway.mjs >"$D/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
curl -s -X PUT -H "X-API-Key: $KEY" -d '{"path":"tfy-secret/bench/hot","value":"x"}' "http://127.0.0.1:$PORT/secrets" >/dev/null
cat >"$D/put.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/secrets", { ["X-API-Key"] = "$KEY", ["Content-Type"] = "application/json" },
    '{"path":"tfy-secret/bench/w' .. (counter % 1000) .. '","value":"value-' .. counter .. '"}')
end
LUA
if [ -n "${GET:-}" ]; then ARGS=(-H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/secrets?path=tfy-secret/bench/hot")
else ARGS=(-s "$D/put.lua" "http://127.0.0.1:$PORT"); fi
taskset -c 1 wrk -t1 -c${CONNS:-32} -d3s "${ARGS[@]}" >/dev/null
T0=$(awk '{print $14+$15}' /proc/$PID/stat)
OUT=$(taskset -c 1 wrk -t1 -c${CONNS:-32} -d5s "${ARGS[@]}")
T1=$(awk '{print $14+$15}' /proc/$PID/stat)
N=$(echo "$OUT" | grep -oP '\d+(?= requests in)')
RPS=$(echo "$OUT" | grep -oP 'Requests/sec:\s+\K[\d.]+')
NON=$(echo "$OUT" | grep -oP 'Non-2xx or 3xx responses: \K\d+' || true)
TICK=$(getconf CLK_TCK)
echo "$1: $(echo "($T1 - $T0) * 1000000 / $TICK / $N" | bc -l | cut -c1-6) us CPU per request, $RPS req/s, non-2xx ${NON:-0}"
