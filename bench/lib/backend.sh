# The fixed upstream both run.sh and soak.sh put behind every proxy (sourced).
# nginx (1 worker, `return 200`) when installed: it leaves the most CPU to the
# proxy under test (the shared harness measured 138–153k req/s against 77–83k
# for node:http on this machine class); node:http (peers/backend.ts) otherwise.
# Needs: HERE, DIST, RUNTIME, OUT, NODE_BIN, BACKEND, BACKEND_PORT, BODY_BYTES,
# LARGE_BODY_BYTES, DELAY_MS; lib/procs.sh sourced.

render() { # render TEMPLATE OUTFILE PORT : fill in a conf/*.in template
  sed -e "s#@RUNDIR@#$RUNTIME#g" -e "s#@BACKEND_PORT@#$BACKEND_PORT#g" -e "s#@PORT@#$3#g" \
      -e "s#@SMALL_DIRECTIVE@#$SMALL_DIRECTIVE#" "$HERE/conf/$1" >"$2"
}

resolve_backend() { # sets BACKEND to nginx or node
  if [[ "$BACKEND" == auto ]]; then
    if [[ "$DELAY_MS" != 0 ]] || ! command -v nginx >/dev/null 2>&1; then BACKEND=node; else BACKEND=nginx; fi
  fi
  if [[ "$BACKEND" == nginx && "$DELAY_MS" != 0 ]]; then
    echo "BACKEND=nginx cannot add a delay; use BACKEND=node (or leave BACKEND=auto)" >&2; exit 2
  fi
}

start_backend() {
  mkdir -p "$RUNTIME/www" "$RUNTIME/nginx-backend-tmp" "$RUNTIME/nginx-proxy-tmp"
  local small="$RUNTIME/www/small.txt"
  head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$small"
  head -c "$LARGE_BODY_BYTES" /dev/zero | tr '\0' 'y' >"$RUNTIME/www/large.txt"
  chmod -R a+rX "$RUNTIME"
  # nginx cannot hold more than ~4 KiB in a `return` string
  if (( BODY_BYTES <= 2048 )); then SMALL_DIRECTIVE="return 200 \"$(cat "$small")\";"
  else SMALL_DIRECTIVE="try_files /small.txt =500;"; fi

  log "backend: $BACKEND on 127.0.0.1:$BACKEND_PORT (body $BODY_BYTES B, /16k $LARGE_BODY_BYTES B, delay ${DELAY_MS} ms)"
  if [[ "$BACKEND" == nginx ]]; then
    render nginx-backend.conf.in "$RUNTIME/nginx-backend.conf" "$BACKEND_PORT"
    cp "$RUNTIME/nginx-backend.conf" "$OUT/logs/"
    start_bg backend nginx -p "$RUNTIME" -e "$RUNTIME/nginx-backend.error.log" -c "$RUNTIME/nginx-backend.conf" -g 'daemon off;'
  else
    PORT=$BACKEND_PORT BODY_BYTES=$BODY_BYTES LARGE_BODY_BYTES=$LARGE_BODY_BYTES DELAY_MS=$DELAY_MS \
      start_bg backend "$NODE_BIN" "$DIST/peers/backend.js"
  fi
  wait_ready backend "$BACKEND_PORT" 10
  check_bodies backend "$BACKEND_PORT"
}

check_bodies() { # check_bodies NAME PORT : both paths must arrive intact
  local name=$1 port=$2 n1 n2
  n1=$(curl -s -m 5 "http://127.0.0.1:$port/" | wc -c)
  n2=$(curl -s -m 5 "http://127.0.0.1:$port/16k" | wc -c)
  if [[ "$n1" != "$BODY_BYTES" || "$n2" != "$LARGE_BODY_BYTES" ]]; then
    log "ERROR: $name returned $n1 B for / and $n2 B for /16k (expected $BODY_BYTES and $LARGE_BODY_BYTES)"; return 1
  fi
}

# The switchyard config under test, copied into RUNTIME with this run's ports
# (the copy also keeps reloads and the revision history out of the repo).
render_switchyard_config() { # render_switchyard_config OUTFILE [PORT ADMIN_PORT]
  sed -e "s#127\.0\.0\.1:18080#127.0.0.1:$BACKEND_PORT#g" \
      -e "s#port: 18090#port: ${2:-$SWITCHYARD_PORT}#" -e "s#port: 18091#port: ${3:-$SWITCHYARD_ADMIN_PORT}#" \
      "$HERE/switchyard.bench.yaml" >"$1"
}
