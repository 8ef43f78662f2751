#!/usr/bin/env bash
# Peer benchmark: one fixed backend, then direct, nginx, bare fastify, the raw
# undici proxy, switchyard and switchyard with its access log on (every
# request, to a file), all loaded by wrk in the same run, interleaved and
# rotated; prints medians, ratios and peak RSS (bench/README.md).
# Adapted from the team's shared harness (/work/shared/bench): same CPU/noise
# accounting, rotation, medians and RSS measurement.
#
#   npm run bench              # full: 3 rounds, ~10 min
#   npm run bench:quick        # QUICK=1: 1 round, short runs, ~2 min (smoke test, ±10 %)
#   PROFILE=1 npm run bench:quick   # also write switchyard's --cpu-prof profile
#
# Expects `npm run build` and `npm run bench:build` to have run (the npm
# scripts do). All traffic goes to 127.0.0.1; every wrk run is time-bounded
# (-d plus a `timeout` guard); only processes started here are stopped, by
# their process-group id.
set -Eeuo pipefail
{ # one compound command: bash parses it all before running, so editing this
  # file during a run cannot corrupt that run.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
DIST="$ROOT/dist-bench/bench"

# ----------------------------------------------------------------- settings
QUICK=${QUICK:-0}
if [[ "$QUICK" == 1 ]]; then
  : "${REPS:=1}" "${DURATION:=5}" "${LARGE_DURATION:=4}" "${LAT_DURATION:=4}" "${WARMUP:=2}" "${RETRY_BUDGET:=30}"
fi
REPS=${REPS:-3}                      # rounds: every (scenario, peer) run once per round
DURATION=${DURATION:-10}             # s, max-rate run, 100 B
LARGE_DURATION=${LARGE_DURATION:-5}  # s, max-rate run, 16 KiB
LAT_DURATION=${LAT_DURATION:-5}      # s, fixed-rate runs
WARMUP=${WARMUP:-3}                  # s, unrecorded load per peer before round 1
GAP=${GAP:-0.5}                      # s, pause between runs
THREADS=${THREADS:-1}                # wrk threads
CONNS=${CONNS:-50}                   # wrk connections, max-rate runs
LAT_RATE=${LAT_RATE:-5000}           # req/s offered in the fixed-rate runs
LAT_CONNS=${LAT_CONNS:-50}           # connections in the fixed-rate runs
SCENARIOS=${SCENARIOS:-"small large latency latency-large"}
PEERS=${PEERS:-"direct nginx fastify undici switchyard switchyard-log"}   # haproxy: add it (WITH_HAPROXY=1 installs it)
BODY_BYTES=${BODY_BYTES:-100}
LARGE_BODY_BYTES=${LARGE_BODY_BYTES:-16384}
DELAY_MS=${DELAY_MS:-0}              # backend think time (needs BACKEND=node)
BACKEND=${BACKEND:-auto}             # nginx | node | auto (nginx when installed)
PORT_BASE=${PORT_BASE:-18080}        # every port below is PORT_BASE + offset unless set
BACKEND_PORT=${BACKEND_PORT:-$PORT_BASE}
NGINX_PORT=${NGINX_PORT:-$((PORT_BASE + 1))}
HAPROXY_PORT=${HAPROXY_PORT:-$((PORT_BASE + 2))}
FASTIFY_PORT=${FASTIFY_PORT:-$((PORT_BASE + 3))}
UNDICI_PORT=${UNDICI_PORT:-$((PORT_BASE + 5))}
SWITCHYARD_PORT=${SWITCHYARD_PORT:-$((PORT_BASE + 10))}
SWITCHYARD_ADMIN_PORT=${SWITCHYARD_ADMIN_PORT:-$((PORT_BASE + 11))}
SWITCHYARD_LOG_PORT=${SWITCHYARD_LOG_PORT:-$((PORT_BASE + 12))}
SWITCHYARD_LOG_ADMIN_PORT=${SWITCHYARD_LOG_ADMIN_PORT:-$((PORT_BASE + 13))}
SWITCHYARD_BASE_PORT=${SWITCHYARD_BASE_PORT:-$((PORT_BASE + 14))}
SWITCHYARD_BASE_ADMIN_PORT=${SWITCHYARD_BASE_ADMIN_PORT:-$((PORT_BASE + 15))}
# Peer switchyard-base: another build of switchyard, run beside this one to
# tell a regression from a change of machine (e.g. a worktree of an older
# commit after `npm ci && npm run build`: BASELINE_ROOT=/tmp/old PEERS="... switchyard switchyard-base").
BASELINE_ROOT=${BASELINE_ROOT:-}
NODE_BIN=${NODE_BIN:-node}
PROFILE=${PROFILE:-0}                # 1 = run switchyard with --cpu-prof (slower; profile only)
NODE_PEER_ARGS=${NODE_PEER_ARGS:-}   # extra node flags for every Node peer (fastify, undici, switchyard), e.g. --trace-gc
SWITCHYARD_NODE_ARGS=${SWITCHYARD_NODE_ARGS:-}   # extra node flags for switchyard only, e.g. --max-semi-space-size=64
OTHER_MAX=${OTHER_MAX:-15}           # % of one core used by processes not ours during a run
RETRIES=${RETRIES:-2}                # re-runs of a run whose "other" CPU exceeded OTHER_MAX
RETRY_BUDGET=${RETRY_BUDGET:-90}     # s, at most this much added by re-runs (keeps full ≤ 12 min)
ACCESS_LOG=${ACCESS_LOG:-}           # switchyard-log's access log destination (default: a file under the run's temp directory)
OUT=${OUT:-"$HERE/results/$(date +%Y%m%d-%H%M%S)"}
# Request headers of a returning desktop browser user, sent to every peer:
# realistic header parsing cost, no rule matches (desktop UA, no x-canary,
# no `canary` cookie) and the sticky cookie is present. WRK_HEADERS= (empty)
# sends wrk's bare requests instead: every request is then a new visitor who
# gets a fresh sticky id and a Set-Cookie.
DEFAULT_HEADERS='User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36|Accept: text/html,application/xhtml+xml,*/*;q=0.8|Accept-Language: en-US,en;q=0.9|Cookie: sy_id=7f3c9a52-1d4e-4b8a-9c61-2a5e8f0b7d13; theme=dark'
WRK_HEADERS=${WRK_HEADERS-$DEFAULT_HEADERS}

# ------------------------------------------------------------ dependencies
for bin in wrk nginx curl pgrep; do
  command -v "$bin" >/dev/null 2>&1 || { bash "$HERE/setup.sh" || true; break; }
done
for bin in wrk curl pgrep setsid timeout "$NODE_BIN"; do
  command -v "$bin" >/dev/null 2>&1 || { echo "missing $bin: run bench/setup.sh as root (apt-get install wrk curl procps)" >&2; exit 2; }
done
for f in peers/backend.js peers/fastify-proxy.js peers/undici-proxy.js summarize.js; do
  [[ -f "$DIST/$f" ]] || { echo "missing dist-bench/bench/$f: run \`npm run bench:build\` (npm run bench does)" >&2; exit 2; }
done
[[ -f "$ROOT/dist/cli.js" ]] || { echo "missing dist/cli.js: run \`npm run build\`" >&2; exit 2; }
if ! command -v nginx >/dev/null 2>&1; then
  if [[ " $PEERS " == *" nginx "* ]]; then echo "nginx is not installed: the nginx peer is skipped (apt-get install nginx-light)" >&2; fi
  PEERS=$(sed -E 's/(^| )nginx( |$)/ /g' <<<"$PEERS")
fi
if [[ " $PEERS " == *" haproxy "* ]] && ! command -v haproxy >/dev/null 2>&1; then
  echo "haproxy is not installed: skipped (WITH_HAPROXY=1 bench/setup.sh installs it)" >&2
  PEERS=$(sed -E 's/(^| )haproxy( |$)/ /g' <<<"$PEERS")
fi

mkdir -p "$OUT/logs" "$OUT/wrk"
RUNTIME="$(mktemp -d -t switchyard-bench.XXXXXX)"   # configs, bodies, history
chmod 755 "$RUNTIME"
# shellcheck source=lib/procs.sh
source "$HERE/lib/procs.sh"
# shellcheck source=lib/backend.sh
source "$HERE/lib/backend.sh"
trap teardown EXIT
trap 'exit 130' INT TERM

CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
resolve_backend

declare -A PORT_OF=()
for port in $BACKEND_PORT $NGINX_PORT $HAPROXY_PORT $FASTIFY_PORT $UNDICI_PORT $SWITCHYARD_PORT $SWITCHYARD_ADMIN_PORT $SWITCHYARD_LOG_PORT $SWITCHYARD_LOG_ADMIN_PORT; do
  if port_in_use "$port"; then log "ERROR: port $port already in use (another bench running?); choose free ports with PORT_BASE=28080 (or *_PORT)"; exit 1; fi
done

log "results -> $OUT"
start_backend

# -------------------------------------------------------------------- peers
UPSTREAM="http://127.0.0.1:$BACKEND_PORT"
read -ra peer_args <<<"$NODE_PEER_ARGS"
SWITCHYARD_CONFIG="$RUNTIME/switchyard.yaml"
for peer in $PEERS; do
  case "$peer" in
    direct)
      PORT_OF[$peer]=$BACKEND_PORT ;;
    nginx)
      PORT_OF[$peer]=$NGINX_PORT
      render nginx-proxy.conf.in "$RUNTIME/nginx-proxy.conf" "$NGINX_PORT"
      cp "$RUNTIME/nginx-proxy.conf" "$OUT/logs/"
      start_bg nginx nginx -p "$RUNTIME" -e "$RUNTIME/nginx-proxy.error.log" -c "$RUNTIME/nginx-proxy.conf" -g 'daemon off;' ;;
    haproxy)
      PORT_OF[$peer]=$HAPROXY_PORT
      render haproxy.cfg.in "$RUNTIME/haproxy.cfg" "$HAPROXY_PORT"
      cp "$RUNTIME/haproxy.cfg" "$OUT/logs/"
      start_bg haproxy haproxy -db -f "$RUNTIME/haproxy.cfg" ;;
    fastify)
      PORT_OF[$peer]=$FASTIFY_PORT
      PORT=$FASTIFY_PORT UPSTREAM=$UPSTREAM start_bg fastify "$NODE_BIN" "${peer_args[@]}" "$DIST/peers/fastify-proxy.js" ;;
    undici)
      PORT_OF[$peer]=$UNDICI_PORT
      PORT=$UNDICI_PORT UPSTREAM=$UPSTREAM start_bg undici "$NODE_BIN" "${peer_args[@]}" "$DIST/peers/undici-proxy.js" ;;
    switchyard)
      PORT_OF[$peer]=$SWITCHYARD_PORT
      render_switchyard_config "$SWITCHYARD_CONFIG" "$SWITCHYARD_PORT" "$SWITCHYARD_ADMIN_PORT"
      cp "$SWITCHYARD_CONFIG" "$OUT/logs/switchyard.yaml"
      prof=()
      if [[ "$PROFILE" == 1 ]]; then mkdir -p "$OUT/profile"; prof=(--cpu-prof --cpu-prof-dir="$OUT/profile"); fi
      # exactly as a user runs it: the CLI, the config's defaults, logs to stdout
      read -ra sy_args <<<"$SWITCHYARD_NODE_ARGS"
      start_bg switchyard "$NODE_BIN" "${peer_args[@]}" "${sy_args[@]}" "${prof[@]}" "$ROOT/dist/cli.js" serve --config "$SWITCHYARD_CONFIG" --state-dir "$RUNTIME" ;;
    switchyard-log)
      # The same config with the access log on for every request (what it costs: ÷switchyard in the summary).
      PORT_OF[$peer]=$SWITCHYARD_LOG_PORT
      log_config="$RUNTIME/switchyard-log.yaml"
      render_switchyard_config "$log_config" "$SWITCHYARD_LOG_PORT" "$SWITCHYARD_LOG_ADMIN_PORT"
      # Not in RUNTIME itself: both switchyards watch their config's directory, and a
      # file written on every request there keeps the watchers re-reading it.
      printf 'accessLog: { mode: all, destination: "%s" }\n' "${ACCESS_LOG:-$RUNTIME/access/access.log}" >>"$log_config"
      cp "$log_config" "$OUT/logs/switchyard-log.yaml"
      read -ra sy_args <<<"$SWITCHYARD_NODE_ARGS"
      start_bg switchyard-log "$NODE_BIN" "${peer_args[@]}" "${sy_args[@]}" "$ROOT/dist/cli.js" serve --config "$log_config" --state-dir "$RUNTIME" ;;
    switchyard-base)
      [[ -n "$BASELINE_ROOT" && -f "$BASELINE_ROOT/dist/cli.js" ]] || { log "ERROR: switchyard-base needs BASELINE_ROOT, a checkout with dist/cli.js built"; exit 2; }
      PORT_OF[$peer]=$SWITCHYARD_BASE_PORT
      base_config="$RUNTIME/switchyard-base.yaml"
      render_switchyard_config "$base_config" "$SWITCHYARD_BASE_PORT" "$SWITCHYARD_BASE_ADMIN_PORT"
      cp "$base_config" "$OUT/logs/switchyard-base.yaml"
      mkdir -p "$RUNTIME/base-state"
      read -ra sy_args <<<"$SWITCHYARD_NODE_ARGS"
      start_bg switchyard-base "$NODE_BIN" "${peer_args[@]}" "${sy_args[@]}" "$BASELINE_ROOT/dist/cli.js" serve --config "$base_config" --state-dir "$RUNTIME/base-state" ;;
    *) log "ERROR: unknown peer '$peer'"; exit 2 ;;
  esac
done

for peer in $PEERS; do
  [[ "$peer" == direct ]] && continue
  wait_ready "$peer" "${PORT_OF[$peer]}" 30
  check_bodies "$peer" "${PORT_OF[$peer]}"
done
log "all up: $(for p in $PEERS; do printf '%s=%s ' "$p" "${PORT_OF[$p]}"; done)"

# -------------------------------------------------------------- metadata
pkg_version() { "$NODE_BIN" -e 'process.stdout.write(require(process.argv[1] + "/package.json").version)' "$ROOT/node_modules/$1" 2>/dev/null || echo null; }
{
  printf '{"date":"%s","host_cpus":%s,"cpu_model":"%s","kernel":"%s","mem_gib":%s,' \
    "$(date -Is)" "$NCPU" "$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo | tr -d '"')" "$(uname -r)" \
    "$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)"
  printf '"node":"%s","nginx":"%s","haproxy":"%s","wrk":"%s","git":"%s",' \
    "$("$NODE_BIN" -v)" "$(nginx -v 2>&1 | sed 's#.*/##')" "$(command -v haproxy >/dev/null && haproxy -v | awk 'NR==1{print $3}')" \
    "$(wrk -v 2>&1 | awk 'NR==1{print $2}')" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
  printf '"packages":{"fastify":"%s","@fastify/http-proxy":"%s","@fastify/reply-from":"%s","undici":"%s"},' \
    "$(pkg_version fastify)" "$(pkg_version @fastify/http-proxy)" "$(pkg_version @fastify/reply-from)" "$(pkg_version undici)"
  printf '"settings":{"reps":%s,"duration":%s,"large_duration":%s,"lat_duration":%s,"warmup":%s,' \
    "$REPS" "$DURATION" "$LARGE_DURATION" "$LAT_DURATION" "$WARMUP"
  printf '"threads":%s,"conns":%s,"lat_rate":%s,"lat_conns":%s,"scenarios":"%s","peers":"%s",' \
    "$THREADS" "$CONNS" "$LAT_RATE" "$LAT_CONNS" "$SCENARIOS" "$(xargs <<<"$PEERS")"
  printf '"backend":"%s","body_bytes":%s,"large_body_bytes":%s,"delay_ms":%s,"quick":%s,"other_max":%s,"retries":%s,"profile":%s,"node_peer_args":"%s","switchyard_node_args":"%s","headers":%s}}\n' \
    "$BACKEND" "$BODY_BYTES" "$LARGE_BODY_BYTES" "$DELAY_MS" "$QUICK" "$OTHER_MAX" "$RETRIES" "$PROFILE" "$NODE_PEER_ARGS" "$SWITCHYARD_NODE_ARGS" \
    "$("$NODE_BIN" -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$WRK_HEADERS")"
} >"$OUT/meta.json"

# ------------------------------------------------------------ load runs
RSS_IDLE=()
for peer in $PEERS; do
  RSS_IDLE+=("$peer=$(group_mem_kb "${PGID[$peer]:-}" VmRSS)")
done

all_ticks() { # CPU ticks of every process group started here
  local n sum=0
  for n in "${STARTED[@]}"; do sum=$((sum + $(group_ticks "${PGID[$n]}"))); done
  echo "$sum"
}

HDR=()
if [[ -n "$WRK_HEADERS" ]]; then
  IFS='|' read -ra _hs <<<"$WRK_HEADERS"
  for h in "${_hs[@]}"; do HDR+=(-H "$h"); done
fi

# one_run PEER SCENARIO ROUND ATTEMPT : one bounded wrk run, appends a JSON
# line to runs.jsonl; returns 3 when other processes used > OTHER_MAX % CPU
one_run() {
  local peer=$1 scen=$2 rep=$3 attempt=${4:-1} port=${PORT_OF[$1]} url dur script conns args=() tag
  local c0 i0 c1 i1 wu ws
  case "$scen" in
    small)         url="http://127.0.0.1:$port/";    dur=$DURATION;       script=report.lua; conns=$CONNS ;;
    large)         url="http://127.0.0.1:$port/16k"; dur=$LARGE_DURATION; script=report.lua; conns=$CONNS ;;
    latency)       url="http://127.0.0.1:$port/";    dur=$LAT_DURATION;   script=paced.lua;  conns=$LAT_CONNS
                   args=(-- "$LAT_RATE" "$THREADS") ;;
    latency-large) url="http://127.0.0.1:$port/16k"; dur=$LAT_DURATION;   script=paced.lua;  conns=$LAT_CONNS
                   args=(-- "$LAT_RATE" "$THREADS") ;;
    warmup)        url="http://127.0.0.1:$port/";    dur=$WARMUP;         script=report.lua; conns=$CONNS ;;
    *) log "ERROR: unknown scenario $scen"; exit 2 ;;
  esac
  tag="$peer.$scen.$rep.$attempt"
  local ppg=${PGID[$peer]:-} bpg=${PGID[backend]}
  local p0 b0 a0 t0 p1 b1 a1 t1
  a0=$(all_ticks); p0=$(group_ticks "$ppg"); b0=$(group_ticks "$bpg"); local ps0; ps0=$(group_sys_ticks "$ppg")
  read -r c0 i0 < <(cpu_stat); t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time timeout $((dur + 30)) wrk -t"$THREADS" -c"$conns" -d"${dur}s" --timeout 5s "${HDR[@]}" \
      -s "$HERE/lib/$script" "$url" "${args[@]}" >"$OUT/wrk/$tag.txt" 2>&1 ; } 2>"$OUT/wrk/$tag.time" || true
  t1=$(date +%s.%N); read -r c1 i1 < <(cpu_stat)
  p1=$(group_ticks "$ppg"); b1=$(group_ticks "$bpg"); a1=$(all_ticks); local ps1; ps1=$(group_sys_ticks "$ppg")
  # RSS right after the load stops: steadier than the lifetime peak (VmHWM),
  # which one badly timed GC can set.
  local rss_now; rss_now=$(group_mem_kb "$ppg" VmRSS)
  [[ "$scen" == warmup ]] && return 0
  local res; res=$(grep '^BENCHJSON ' "$OUT/wrk/$tag.txt" | head -n1 || true)
  read -r wu ws <"$OUT/wrk/$tag.time" || { wu=0; ws=0; }
  # other = machine busy CPU − (all our process groups + wrk): someone else's load
  local cpu; cpu=$(awk -v p0="$p0" -v p1="$p1" -v ps0="$ps0" -v ps1="$ps1" -v b0="$b0" -v b1="$b1" -v a0="$a0" -v a1="$a1" -v t0="$t0" -v t1="$t1" \
      -v wu="$wu" -v ws="$ws" -v c0="$c0" -v c1="$c1" -v i0="$i0" -v i1="$i1" -v hz="$CLK_TCK" -v n="$NCPU" \
      -v direct="$([[ -z $ppg ]] && echo 1 || echo 0)" -v omax="$OTHER_MAX" \
      'BEGIN { w = t1 - t0; tot = c1 - c0; busy = tot > 0 ? 100 * n * (1 - (i1 - i0) / tot) : 0;
               pc = direct ? "null" : sprintf("%.1f", 100 * (p1 - p0) / hz / w);
               psys = direct ? "null" : sprintf("%.1f", 100 * (ps1 - ps0) / hz / w);
               wk = 100 * (wu + ws) / w; other = busy - 100 * (a1 - a0) / hz / w - wk;
               printf "\"cpu_proxy\":%s,\"cpu_proxy_sys\":%s,\"cpu_backend\":%.1f,\"cpu_wrk\":%.1f,\"cpu_busy\":%.1f,\"cpu_other\":%.1f,\"contaminated\":%s,\"wall_s\":%.2f",
                      pc, psys, 100 * (b1 - b0) / hz / w, wk, busy, other, (other > omax) ? "true" : "false", w }')
  local head="{\"peer\":\"$peer\",\"scenario\":\"$scen\",\"rep\":$rep,\"attempt\":$attempt,\"rss_kb\":$rss_now,$cpu"
  if [[ -n "$res" ]]; then
    echo "$head,${res#BENCHJSON \{}" >>"$OUT/runs.jsonl"
  else
    echo "$head,\"failed\":true}" >>"$OUT/runs.jsonl"
    log "WARNING: no result for $tag (see wrk/$tag.txt)"
  fi
  [[ "$cpu" == *'"contaminated":true'* ]] && return 3
  return 0
}

# measure PEER SCENARIO ROUND : one_run, re-run while contaminated (up to
# RETRIES times, within RETRY_BUDGET seconds for the whole script)
RETRY_SPENT=0
measure() {
  local attempt rc last t0=0
  for ((attempt=1; attempt<=RETRIES+1; attempt++)); do
    rc=0; one_run "$1" "$2" "$3" "$attempt" || rc=$?
    (( attempt > 1 )) && RETRY_SPENT=$((RETRY_SPENT + SECONDS - t0))
    last=$(tail -n1 "$OUT/runs.jsonl")
    log "round $3/$REPS $(printf '%-13s' "$2") $(printf '%-10s' "$1") $(sed -E 's/.*"cpu_other":([-0-9.]+).*"rps":([0-9.]+).*"p50_us":([0-9]+).*"p99_us":([0-9]+).*/rps=\2 p50=\3us p99=\4us other-cpu=\1%/' <<<"$last")"
    (( rc == 3 )) || return 0
    if (( attempt > RETRIES || RETRY_SPENT >= RETRY_BUDGET )); then
      log "  ^ other processes used > ${OTHER_MAX}% of a core during this run; kept as noisy (re-runs so far: ${RETRY_SPENT}s of ${RETRY_BUDGET}s)"
      return 0
    fi
    log "  ^ other processes used > ${OTHER_MAX}% of a core during this run; re-running"
    t0=$SECONDS
    sleep $((3 * attempt))   # back off: builds and test runs come in bursts
  done
}

pre_busy=$(machine_busy_pct)
if (( pre_busy > 10 )); then
  log "WARNING: the machine is already ${pre_busy}% busy (of $((NCPU * 100))) before any load: results will be noisy (check uptime/top)"
fi
read -ra PEER_ARR <<<"$PEERS"
npeers=${#PEER_ARR[@]}
if (( WARMUP > 0 )); then
  log "warm-up: ${WARMUP}s per peer"
  for peer in "${PEER_ARR[@]}"; do one_run "$peer" warmup 0 || true; sleep "$GAP"; done
fi
for ((rep=1; rep<=REPS; rep++)); do
  for scen in $SCENARIOS; do
    # rotate the peer order every round so no peer always runs first or last
    for ((k=0; k<npeers; k++)); do
      peer=${PEER_ARR[$(( (k + rep - 1) % npeers ))]}
      measure "$peer" "$scen" "$rep"
      sleep "$GAP"
    done
  done
done

# ------------------------------------------------------------- memory
{
  for entry in "${RSS_IDLE[@]}"; do
    peer=${entry%%=*}; idle=${entry#*=}
    pg=${PGID[$peer]:-}
    printf '{"peer":"%s","rss_idle_kb":%s,"rss_end_kb":%s,"hwm_kb":%s,"backend_hwm_kb":%s}\n' \
      "$peer" "${idle:-0}" "$(group_mem_kb "$pg" VmRSS)" "$(group_mem_kb "$pg" VmHWM)" "$(group_mem_kb "${PGID[backend]}" VmHWM)"
  done
} >"$OUT/rss.jsonl"

# ------------------------------------------------------------- teardown + report
stop_all
"$NODE_BIN" "$DIST/summarize.js" "$OUT" | tee "$OUT/summary.md"
if [[ "$PROFILE" == 1 ]]; then
  for f in "$OUT"/profile/*.cpuprofile; do
    [[ -f "$f" ]] && "$NODE_BIN" "$DIST/profile-top.js" "$f" | tee "$OUT/profile/top.txt"
  done
fi
log "raw results and summary in $OUT"
exit 0
}
