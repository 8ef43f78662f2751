#!/usr/bin/env bash
# HTTP/2 and gRPC benchmark (issue 15): h2load against switchyard over h2c
# and over TLS, next to nginx (HTTP/2, h2c and TLS) and the bare Node HTTP/2
# proxy (bench/peers/h2-proxy.ts), all in front of the same node:http backend
# in one run; then gRPC unary calls per second through switchyard (h2c both
# ways) against calling the @grpc/grpc-js service directly.
# Needs h2load (Debian nghttp2-client; installed here when missing and root),
# openssl, and nginx for its peer (skipped without it).
# env: PORT_BASE=18200, N=100000 (requests per h2load run), C=10 (connections),
#      M=10 (streams per connection), GRPC_DURATION=10, GRPC_CONCURRENCY=50
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DIST="$ROOT/dist-bench/bench"
PORT_BASE=${PORT_BASE:-18200}
N=${N:-100000}; C=${C:-10}; M=${M:-10}
NODE_BIN=${NODE_BIN:-node}

if ! command -v h2load >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2-client >/dev/null
  else
    echo "h2load is missing: sudo apt-get install -y nghttp2-client" >&2; exit 2
  fi
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-h2bench.XXXXXX")
OUT="$ROOT/bench/results/h2-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT" "$RUN/nginx-tmp"
PIDS=()
cleanup () { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$RUN"; }
trap cleanup EXIT
start () { local name=$1; shift; "$@" >"$OUT/$name.log" 2>&1 & PIDS+=($!); }
wait_port () { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

BACKEND=$PORT_BASE; SY_H2C=$((PORT_BASE+1)); SY_TLS=$((PORT_BASE+2)); SY_ADMIN=$((PORT_BASE+3)); SY_ADMIN2=$((PORT_BASE+4))
NGX_H2C=$((PORT_BASE+5)); NGX_TLS=$((PORT_BASE+6)); NODE_H2=$((PORT_BASE+7)); GRPC=$((PORT_BASE+8)); SY_GRPC=$((PORT_BASE+9)); SY_GRPC_ADMIN=$((PORT_BASE+10))

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RUN/tls.key" -out "$RUN/tls.crt" -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

PORT=$BACKEND start backend "$NODE_BIN" "$DIST/peers/backend.js"
PORT=$NODE_H2 UPSTREAM=http://127.0.0.1:$BACKEND start node-h2 "$NODE_BIN" "$DIST/peers/h2-proxy.js"
PORT=$GRPC start grpc-backend "$NODE_BIN" "$DIST/peers/grpc-backend.js"
sy_config () { # port admin-port tls(0/1) backend-url protocol
  printf 'listen: { host: 127.0.0.1, port: %s%s }\nadmin: { host: 127.0.0.1, port: %s }\nshutdown: { drainDelay: 0s }\nbackends:\n  app: { targets: [%s], protocol: %s }\nroutes:\n  - name: all\n    to: app\n' \
    "$1" "$([[ $3 == 1 ]] && printf ', tls: { certificates: [{ cert: %s, key: %s }] }' "$RUN/tls.crt" "$RUN/tls.key")" "$2" "$4" "$5"
}
mkdir -p "$RUN/sy1" "$RUN/sy2" "$RUN/sy3"
sy_config "$SY_H2C" "$SY_ADMIN" 0 "http://127.0.0.1:$BACKEND" http1 >"$RUN/sy1/switchyard.yaml"
sy_config "$SY_TLS" "$SY_ADMIN2" 1 "http://127.0.0.1:$BACKEND" http1 >"$RUN/sy2/switchyard.yaml"
sy_config "$SY_GRPC" "$SY_GRPC_ADMIN" 0 "http://127.0.0.1:$GRPC" h2c >"$RUN/sy3/switchyard.yaml"
for i in 1 2 3; do start "switchyard-$i" "$NODE_BIN" "$ROOT/dist/cli.js" serve --config "$RUN/sy$i/switchyard.yaml" --state-dir "$RUN/sy$i"; done
SY_GRPC_PID=${PIDS[-1]}
peers=("switchyard-h2c http://127.0.0.1:$SY_H2C/" "switchyard-tls https://127.0.0.1:$SY_TLS/" "node-h2-proxy http://127.0.0.1:$NODE_H2/")
if command -v nginx >/dev/null 2>&1; then
  cat >"$RUN/nginx.conf" <<NGINX
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/nginx.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $RUN/nginx-tmp/body; proxy_temp_path $RUN/nginx-tmp/proxy;
  fastcgi_temp_path $RUN/nginx-tmp/f; uwsgi_temp_path $RUN/nginx-tmp/u; scgi_temp_path $RUN/nginx-tmp/s;
  http2_max_concurrent_streams 128;
  upstream backend { server 127.0.0.1:$BACKEND; keepalive 128; }
  server {
    listen 127.0.0.1:$NGX_H2C http2;
    listen 127.0.0.1:$NGX_TLS ssl http2;
    ssl_certificate $RUN/tls.crt; ssl_certificate_key $RUN/tls.key;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  start nginx nginx -p "$RUN" -c "$RUN/nginx.conf" -g 'daemon off;'
  peers+=("nginx-h2c http://127.0.0.1:$NGX_H2C/" "nginx-tls https://127.0.0.1:$NGX_TLS/")
  wait_port "$NGX_TLS"
fi
for p in $BACKEND $NODE_H2 $GRPC $SY_H2C $SY_TLS $SY_GRPC; do wait_port "$p"; done

{
  echo "# HTTP/2: h2load -n $N -c $C -m $M (node $("$NODE_BIN" -v), $(h2load --version | head -1))"
  echo
  echo "| peer | req/s | mean latency | failed |"
  echo "|---|---|---|---|"
} | tee "$OUT/summary.md"
for entry in "${peers[@]}"; do
  read -r name url <<<"$entry"
  h2load -n "$((N / 10))" -c "$C" -m "$M" "$url" >/dev/null 2>&1 || true # warm-up
  h2load -n "$N" -c "$C" -m "$M" "$url" >"$OUT/h2load-$name.txt" 2>&1 || true
  rps=$(awk '/^finished in/ {print $4}' "$OUT/h2load-$name.txt")
  mean=$(awk '/^time for request:/ {print $6}' "$OUT/h2load-$name.txt")
  failed=$(awk '/^requests:/ {print $10}' "$OUT/h2load-$name.txt")
  echo "| $name | ${rps:-?} | ${mean:-?} | ${failed:-?} |" | tee -a "$OUT/summary.md"
done
{
  echo
  echo "# gRPC unary: one @grpc/grpc-js client connection, ${GRPC_CONCURRENCY:-50} calls in flight, ${GRPC_DURATION:-10} s"
  echo
  echo '```'
} | tee -a "$OUT/summary.md"
# CPU time (utime+stime, clock ticks) of a process: switchyard's CPU per call is a figure that a loaded machine does not distort.
cpu_ticks () { awk '{print $14 + $15}' "/proc/$1/stat"; }
for target in "127.0.0.1:$GRPC" "127.0.0.1:$SY_GRPC"; do
  before=$(cpu_ticks "$SY_GRPC_PID")
  result=$(TARGET=$target DURATION=${GRPC_DURATION:-10} CONCURRENCY=${GRPC_CONCURRENCY:-50} "$NODE_BIN" "$DIST/grpc-unary.js")
  echo "$result" | tee -a "$OUT/summary.md"
  if [[ $target == "127.0.0.1:$SY_GRPC" ]]; then
    calls=$(sed -n 's/.*"callsPerSecond":\([0-9.]*\).*/\1/p' <<<"$result")
    awk -v t=$(( $(cpu_ticks "$SY_GRPC_PID") - before )) -v hz="$(getconf CLK_TCK)" -v c="$calls" -v d="${GRPC_DURATION:-10}" \
      'BEGIN { printf "switchyard CPU per call: %.2f ms\n", 1000 * t / hz / (c * d) }' | tee -a "$OUT/summary.md"
  fi
done
echo '```' | tee -a "$OUT/summary.md"
echo "results -> $OUT" >&2
