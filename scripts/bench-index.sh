#!/usr/bin/env bash
# Issue 2, point 13: sparse index GETs at 50 connections with wrk, side by
# side with nginx serving the same files from disk. Prints requests per
# second for both and the ratio. Loopback only; each run is bounded (-d).
#
#   scripts/bench-index.sh            # builds the release binary if needed
#   DURATION=20s scripts/bench-index.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/gemeinwerk"

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null
fi
[ -x "$BIN" ] || cargo build --release --bin gemeinwerk

work="$(mktemp -d)"
cleanup() {
  [ -n "${gw_pid:-}" ] && kill "$gw_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

gw_port=18181
ng_port=18182
"$BIN" serve --data-dir "$work/data" --bind "127.0.0.1:$gw_port" --demo >/dev/null 2>&1 &
gw_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$gw_port/healthz" >/dev/null && break; sleep 0.1; done
# Wait until the git index has every package, then take its files.
sleep 1
git clone -q "http://127.0.0.1:$gw_port/git/index.git" "$work/files"
mkdir -p "$work/root" && cp -r "$work/files" "$work/root/index" && rm -rf "$work/root/index/.git"
# nginx workers run as an unprivileged user.
chmod 755 "$work" && chmod -R a+rX "$work/root"

cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/plain;
  etag on;
  server {
    listen 127.0.0.1:$ng_port;
    root $work/root;
    location /index/ { add_header Cache-Control "public, max-age=0, must-revalidate"; }
  }
}
CONF
nginx -c "$work/nginx.conf"

paths=$(cd "$work/root" && find index -type f ! -name config.json | sort | sed 's|^|"/|; s|$|",|' | tr -d '\n')
cat > "$work/paths.lua" <<LUA
paths = { $paths }
i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
count=$(echo "$paths" | tr ',' '\n' | grep -c index)

# Same bytes from both?
first=$(echo "$paths" | cut -d'"' -f2)
cmp <(curl -s "http://127.0.0.1:$gw_port$first") <(curl -s "http://127.0.0.1:$ng_port$first") || { echo "different bytes for $first"; curl -si "http://127.0.0.1:$ng_port$first" | head -5; cat "$work/nginx-error.log"; exit 1; }

rps() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$work/paths.lua" "$1" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c"$CONNECTIONS" -d2s -s "$work/paths.lua" "http://127.0.0.1:$gw_port" >/dev/null  # warm-up
gw=$(rps "http://127.0.0.1:$gw_port")
ng=$(rps "http://127.0.0.1:$ng_port")
ratio=$(awk -v a="$gw" -v b="$ng" 'BEGIN { printf "%.2f", a / b }')
echo "sparse index, $count files, $CONNECTIONS connections, $DURATION each:"
echo "  gemeinwerk  $gw req/s"
echo "  nginx       $ng req/s"
echo "  ratio       $ratio (gemeinwerk / nginx)"
