#!/usr/bin/env bash
# bench/profile/hot-after-random.sh <out-dir> <rounds> [secrets]: issue 19's (b) against (c-hot),
# alternating, <rounds> times each. (b): a fresh gateway with one key; (c-hot): a gateway on the
# seeded store of (c) (run `pnpm bench --only c` once to seed it) that first serves 13 s of random
# keys, as in the bench. Each profile covers only the 10 s of hot-key load (bench/profile/cdp.mjs);
# prints req/s, the gateway's CPU per request over those 10 s (user + system from /proc/<pid>/stat),
# the load average and each profile's top self-time functions. PROFILE=0: no inspector, no profile;
# PERF=1: `perf stat` counters per request over the same window. VARIANTS="b c-fresh c-hot": also
# (c-fresh), the seeded store's gateway with no random phase (store size without the history).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
out=$1; rounds=$2; secrets=${3:-1000000}
store=$root/bench/results/.cache/store-$secrets
key=bench-key-0123456789abcdef
port=19131; inspect=19231
mkdir -p "$out"
cat >"$out/random.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/secrets?path=tfy-secret/bench/k" .. math.random(0, $((secrets - 1))), { ["X-API-Key"] = "$key" })
end
LUA
run() { # variant round
  local variant=$1 n=$2 dir
  dir=$(mktemp -d /tmp/sgw-prof-XXXX)
  local env=(PORT=$port HOST=127.0.0.1 SGW_API_KEY=$key SGW_DATA_DIR="$dir")
  local path=tfy-secret/bench/hot
  if [ "$variant" != b ]; then
    env+=(SGW_MASTER_KEY="$(cat "$store/key")" SGW_SQLITE_FILE="$store/secrets.db"); path=tfy-secret/bench/k1
  else
    env+=(SGW_MASTER_KEY="$(head -c32 /dev/urandom | base64)")
  fi
  local inspector=(--inspect=127.0.0.1:$inspect)
  [ "${PROFILE:-1}" = 0 ] && inspector=()
  env "${env[@]}" taskset -c 0 node "${inspector[@]}" "$root/apps/gateway/bin/sgw-gateway.mjs" >"$out/$variant-$n.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  if [ "$variant" != b ]; then
    sleep 3 # the bench lets the prefetch warm the page cache
  fi
  if [ "$variant" = c-hot ]; then
    taskset -c 1 wrk -t1 -c32 -d13s -s "$out/random.lua" "http://127.0.0.1:$port" | grep Requests/sec | sed 's/^/  random keys first: /'
  else
    curl -fs -X PUT -H "X-API-Key: $key" "http://127.0.0.1:$port/secrets" -d "{\"path\":\"$path\",\"value\":\"value-hot-xxxxxxxxxxxxxxxxxxxxxxxx\"}" >/dev/null
  fi
  local url="http://127.0.0.1:$port/secrets?path=$path"
  taskset -c 1 wrk -t1 -c32 -d3s -H "X-API-Key: $key" "$url" >/dev/null
  local prof=
  if [ "${PROFILE:-1}" != 0 ]; then
    node --experimental-websocket --no-warnings "$here/cdp.mjs" $inspect 10 "$out/$variant-$n.cpuprofile" &
    prof=$!
    sleep 0.3
  fi
  local t0 t1 text requests
  local m0 m1 perfpid=
  # PERF=1: software and (where the VM exposes them) hardware counters of the gateway over the window.
  if [ -n "${PERF:-}" ]; then
    perf stat -e task-clock,page-faults,major-faults,context-switches,cpu-migrations,cache-misses,dTLB-load-misses \
      -p $pid -o "$out/$variant-$n.perf" -- sleep 10 &
    perfpid=$!
  fi
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  m0=$(awk '{print $14+$15}' /proc/$pid/task/$pid/stat)
  text=$(taskset -c 1 wrk -t1 -c32 -d10s -H "X-API-Key: $key" "$url")
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  m1=$(awk '{print $14+$15}' /proc/$pid/task/$pid/stat)
  requests=$(echo "$text" | grep -oP '\d+(?= requests in)')
  echo "== $variant round $n: $(echo "$text" | grep -oP 'Requests/sec:\s+\K[\d.]+') req/s, $(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l | cut -c1-5) us CPU per request ($(echo "($m1 - $m0) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l | cut -c1-5) us on the main thread; the rest is V8's GC helpers and libuv's pool, pinned to the same core), load average $(cut -d' ' -f1-3 /proc/loadavg), peak RSS $(grep VmHWM /proc/$pid/status | awk '{print int($2/1024) " MB"}')"
  [ -n "$prof" ] && wait $prof
  if [ -n "$perfpid" ]; then
    wait $perfpid || true
    grep -E '^\s+[0-9<]' "$out/$variant-$n.perf" | awk -v r="$requests" '$1 !~ /^</ && $2 != "seconds" {gsub(",","",$1); printf "  %s: %.3f per request\n", $2, $1 / r}'
  fi
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir"
  [ -n "$prof" ] && node "$here/top.mjs" "$out/$variant-$n.cpuprofile" "${TOP:-15}"
  return 0
}
for n in $(seq 1 "$rounds"); do
  for variant in ${VARIANTS:-b c-hot}; do run "$variant" "$n"; done
done
