#!/usr/bin/env bash
# Two app replicas behind Debian's nginx on loopback, 20 headless students through the
# balancer: they must be spread over both replicas, each stay on its own (same replica for the
# page and the websocket, one session id through the reruns, no reconnects). Exit 0 on success.
#
#   deploy/smoke.sh [PYTHON]      PYTHON: default the repository's .venv/bin/python, else python3
#   NGINX=/usr/sbin/nginx STUDENTS=20 SECONDS_EACH=30 deploy/smoke.sh
#
# nginx runs in the foreground of this script with its own prefix and config in a temporary
# directory (not the system service); everything started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
py=${1:-${PYTHON:-}}
if [ -z "$py" ]; then
  if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi
fi
nginx=${NGINX:-/usr/sbin/nginx}
students=${STUDENTS:-20}
seconds=${SECONDS_EACH:-30}

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
command -v "$nginx" >/dev/null || fail "nginx not found at $nginx (apt-get install nginx, or NGINX=...)"
"$py" -c "import streamlit, websockets, psutil" 2>/dev/null \
  || fail "$py lacks streamlit, websockets or psutil (pip install -r requirements-dev.txt)"

tmp=$(mktemp -d -t rnnx-smoke.XXXXXX)
pids=()
cleanup() {
  status=$?
  set +e
  trap '' PIPE  # a closed reader of our output must not stop the clean-up
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in "$tmp"/*.log; do
      [ -s "$log" ] && { echo "--- last lines of $(basename "$log"):" >&2; tail -n 15 "$log" >&2; }
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r p1 p2 lb < <("$py" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks: s.close()')

# two replicas on one machine: one training worker each (RNN_EXPLORER_WORKERS: cores / replicas)
for port in "$p1" "$p2"; do
  (cd "$root" && RNN_EXPLORER_WORKERS=1 exec "$py" -m streamlit run streamlit_app.py --server.headless=true \
     --server.address=127.0.0.1 --server.port="$port" --browser.gatherUsageStats=false) \
     >"$tmp/replica-$port.log" 2>&1 &
  pids+=($!)
done

# nginx: our own prefix, pid file and temp paths; the shared app.conf with a loopback listen;
# an upstream of the two replicas
mkdir -p "$tmp/nginx"
sed "s/^\(\s*\)listen 80;/\1listen 127.0.0.1:$lb;/" "$here/nginx/app.conf" >"$tmp/nginx/app.conf"
grep -q "listen 127.0.0.1:$lb;" "$tmp/nginx/app.conf" || fail "no 'listen 80;' line in nginx/app.conf"
sed "s/^\(\s*\)server app:8501;/\1server 127.0.0.1:$p1;\n\1server 127.0.0.1:$p2;/" \
  "$here/nginx/upstream.conf" >"$tmp/nginx/upstream.conf"
grep -q "server 127.0.0.1:$p2;" "$tmp/nginx/upstream.conf" || fail "no 'server app:8501;' line in nginx/upstream.conf"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log info;
events { worker_connections 1024; }
http {
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/nginx/upstream.conf;
    include $tmp/nginx/app.conf;
}
CONF
"$nginx" -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g "daemon off;" 2>"$tmp/nginx-test.log" \
  || { cat "$tmp/nginx-test.log" >&2; fail "nginx rejected the configuration"; }
"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g "daemon off;" >"$tmp/access.log" 2>>"$tmp/nginx-error.log" &
pids+=($!)

echo "smoke: replicas on 127.0.0.1:$p1 and :$p2, nginx on 127.0.0.1:$lb; $students students for ${seconds}s"
"$py" "$here/smoke_check.py" --url "http://127.0.0.1:$lb" \
  --replica "127.0.0.1:$p1=${pids[0]}" --replica "127.0.0.1:$p2=${pids[1]}" \
  --access-log "$tmp/access.log" --students "$students" --seconds "$seconds"
