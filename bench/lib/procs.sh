# Process bookkeeping shared by run.sh and soak.sh (sourced, not run).
# Every process is started with setsid, so its PID is also its process-group
# id; only those groups are ever signalled, and all of them on exit.
# Needs: OUT (log directory), RUNTIME (temp directory, removed on exit).

declare -A PGID=()      # name -> pid (= process group id)
STARTED=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }

start_bg() { # start_bg NAME CMD ARGS...  (own process group, output to logs/NAME.log)
  local name=$1; shift
  setsid "$@" >"$OUT/logs/$name.log" 2>&1 </dev/null &
  PGID[$name]=$!
  STARTED+=("$name")
}

group_pids() { pgrep -g "$1" 2>/dev/null | tr '\n' ' '; }

group_alive() { # any non-zombie process left in the group?
  local p st
  for p in $(group_pids "$1"); do
    st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    st=${st##*) }
    [[ "${st:0:1}" != Z ]] && return 0
  done
  return 1
}

stop_group() { # stop_group NAME : TERM the group we started, KILL after 5 s
  local name=$1 pid=${PGID[$1]:-}
  [[ -z "$pid" ]] && return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    group_alive "$pid" || break
    sleep 0.1
  done
  group_alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  unset "PGID[$name]"
}

stop_all() {
  local i
  for ((i=${#STARTED[@]}-1; i>=0; i--)); do stop_group "${STARTED[$i]}"; done
  STARTED=()
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  [[ -n "${RUNTIME:-}" && -d "$RUNTIME" ]] && rm -rf "$RUNTIME"
  exit "$rc"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() { # wait_ready NAME PORT TIMEOUT_S : until GET / answers 200
  local name=$1 port=$2 t=$3 i
  for ((i=0; i<t*10; i++)); do
    if ! kill -0 "${PGID[$name]}" 2>/dev/null; then
      log "ERROR: $name exited during start-up; last log lines:"; tail -n 20 "$OUT/logs/$name.log" >&2; return 1
    fi
    if [[ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null)" == 200 ]]; then
      return 0
    fi
    sleep 0.1
  done
  log "ERROR: $name not answering 200 on 127.0.0.1:$port after ${t}s"; tail -n 20 "$OUT/logs/$name.log" >&2; return 1
}

group_ticks() { # utime+stime (clock ticks) summed over a process group; 0 if none
  local pgid=$1 p s sum=0
  [[ -z "$pgid" ]] && { echo 0; return; }
  for p in $(group_pids "$pgid"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }                      # drop "pid (comm) "
    # shellcheck disable=SC2086
    set -- $s
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

group_sys_ticks() { # stime (clock ticks, CPU time in the kernel) summed over a process group
  local pgid=$1 p s sum=0
  [[ -z "$pgid" ]] && { echo 0; return; }
  for p in $(group_pids "$pgid"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    sum=$((sum + ${13}))
  done
  echo "$sum"
}

group_mem_kb() { # group_mem_kb PGID FIELD(VmHWM|VmRSS) : summed over the group
  local pgid=$1 field=$2 p v sum=0
  [[ -z "$pgid" ]] && { echo 0; return; }
  for p in $(group_pids "$pgid"); do
    v=$(awk -v f="$field:" '$1==f{print $2}' "/proc/$p/status" 2>/dev/null) || continue
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# total and idle(+iowait) jiffies of the whole machine
cpu_stat() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, $5+$6; exit}' /proc/stat; }

machine_busy_pct() { # busy % of all CPUs (max 100 × CPUs) over one second
  local c0 i0 c1 i1
  read -r c0 i0 < <(cpu_stat); sleep 1; read -r c1 i1 < <(cpu_stat)
  awk -v c0="$c0" -v c1="$c1" -v i0="$i0" -v i1="$i1" -v n="$(nproc)" \
    'BEGIN{printf "%d", (c1>c0) ? 100*n*(1-(i1-i0)/(c1-c0)) : 0}'
}
