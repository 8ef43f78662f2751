#!/usr/bin/env bash
# Installs what the peer benchmark needs from Debian's packages when missing:
# wrk (load generator, required), nginx (backend and peer; optional: without
# it the backend is node:http and the nginx peer is skipped), curl, procps.
# Runs apt-get as root, or through sudo; otherwise prints the command.
# Node dependencies come from the repo's own `npm ci` (fastify,
# @fastify/http-proxy, undici).
set -euo pipefail

need=()
pairs=(wrk:wrk curl:curl pgrep:procps nginx:nginx-light)
[[ "${WITH_HAPROXY:-0}" == 1 ]] && pairs+=(haproxy:haproxy)
for pair in "${pairs[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
((${#need[@]})) || { echo "setup: nothing to install" >&2; exit 0; }

if [[ $(id -u) == 0 ]]; then SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo)
else
  echo "setup: missing ${need[*]}. Install them with:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing ${need[*]} and no apt-get here; install wrk (and nginx) with your package manager" >&2
  exit 2
fi
echo "setup: apt-get install ${need[*]}" >&2
"${SUDO[@]}" apt-get update -qq
# Debian starts nginx's default site on :80 after install unless policy-rc.d
# forbids it (containers usually do); the bench never uses that instance.
if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  # nginx-light is gone from newer Debian releases; plain nginx will do.
  fallback=("${need[@]/nginx-light/nginx}")
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${fallback[@]}" >/dev/null || true
fi
command -v wrk >/dev/null 2>&1 || { echo "setup: wrk is still missing" >&2; exit 2; }
echo "setup: ok" >&2
