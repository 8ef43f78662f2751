#!/usr/bin/env bash
# Soak: 1 000 000 requests through switchyard while its config file is
# rewritten every 2 s; passes with zero errors, every rewrite live, and RSS
# at the end within 10 % of RSS after the first 100 000 requests (soak.ts).
#
#   npm run bench:soak                      # ~2–3 min on 2 cores
#   SOAK_REQUESTS=200000 SOAK_BASELINE=20000 npm run bench:soak   # shorter
#
# Starts the same backend as run.sh and one switchyard (`serve` on a copy of
# bench/switchyard.bench.yaml in a temp directory), 127.0.0.1 only, bounded
# by SOAK_TIMEOUT_S; stops only what it started.
set -Eeuo pipefail
{
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
DIST="$ROOT/dist-bench/bench"

PORT_BASE=${PORT_BASE:-18080}
BACKEND_PORT=${BACKEND_PORT:-$PORT_BASE}
SWITCHYARD_PORT=${SWITCHYARD_PORT:-$((PORT_BASE + 10))}
SWITCHYARD_ADMIN_PORT=${SWITCHYARD_ADMIN_PORT:-$((PORT_BASE + 11))}
BACKEND=${BACKEND:-auto}
BODY_BYTES=${BODY_BYTES:-100}
LARGE_BODY_BYTES=${LARGE_BODY_BYTES:-16384}
DELAY_MS=${DELAY_MS:-0}
NODE_BIN=${NODE_BIN:-node}
export SOAK_TIMEOUT_S=${SOAK_TIMEOUT_S:-600}
OUT=${OUT:-"$HERE/results/soak-$(date +%Y%m%d-%H%M%S)"}

for bin in nginx curl pgrep; do
  command -v "$bin" >/dev/null 2>&1 || { bash "$HERE/setup.sh" || true; break; }
done
for bin in curl pgrep setsid timeout "$NODE_BIN"; do
  command -v "$bin" >/dev/null 2>&1 || { echo "missing $bin: run bench/setup.sh as root (apt-get install curl procps)" >&2; exit 2; }
done
for f in soak.js peers/backend.js; do
  [[ -f "$DIST/$f" ]] || { echo "missing dist-bench/bench/$f: run \`npm run bench:build\`" >&2; exit 2; }
done
[[ -f "$ROOT/dist/cli.js" ]] || { echo "missing dist/cli.js: run \`npm run build\`" >&2; exit 2; }

mkdir -p "$OUT/logs"
RUNTIME="$(mktemp -d -t switchyard-soak.XXXXXX)"
chmod 755 "$RUNTIME"
# shellcheck source=lib/procs.sh
source "$HERE/lib/procs.sh"
# shellcheck source=lib/backend.sh
source "$HERE/lib/backend.sh"
trap teardown EXIT
trap 'exit 130' INT TERM
resolve_backend

for port in $BACKEND_PORT $SWITCHYARD_PORT $SWITCHYARD_ADMIN_PORT; do
  if port_in_use "$port"; then log "ERROR: port $port already in use; choose free ports with PORT_BASE=28080"; exit 1; fi
done
pre_busy=$(machine_busy_pct)
(( pre_busy > 10 )) && log "WARNING: the machine is already ${pre_busy}% busy before any load (RSS is unaffected; the duration is)"

log "results -> $OUT"
start_backend
CONFIG="$RUNTIME/switchyard.yaml"
render_switchyard_config "$CONFIG"
start_bg switchyard "$NODE_BIN" "$ROOT/dist/cli.js" serve --config "$CONFIG" --state-dir "$RUNTIME"
wait_ready switchyard "$SWITCHYARD_PORT" 30
check_bodies switchyard "$SWITCHYARD_PORT"
log "switchyard up (pid ${PGID[switchyard]}); soak: ${SOAK_REQUESTS:-1000000} requests, config rewritten every ${SOAK_RELOAD_MS:-2000} ms"

rc=0
TARGET="http://127.0.0.1:$SWITCHYARD_PORT" ADMIN="http://127.0.0.1:$SWITCHYARD_ADMIN_PORT" CONFIG="$CONFIG" \
  SY_PID="${PGID[switchyard]}" OUT="$OUT" BODY_BYTES=$BODY_BYTES LARGE_BODY_BYTES=$LARGE_BODY_BYTES \
  timeout $((SOAK_TIMEOUT_S + 60)) "$NODE_BIN" "$DIST/soak.js" || rc=$?
log "switchyard logged $(grep -c '"msg":"config reloaded"' "$OUT/logs/switchyard.log" || true) reloads; its log: $OUT/logs/switchyard.log"
grep -q '"level":50' "$OUT/logs/switchyard.log" && log "WARNING: switchyard logged errors (level 50), see its log"
exit "$rc"
}
