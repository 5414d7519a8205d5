#!/usr/bin/env bash
# Smoke test of the release binary, built exactly as the Dockerfile builds
# it (scripts/build.sh), configured as the image configures it (NEWSMD_*):
# version, config check, run answering /healthz, healthcheck, SIGTERM.
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || dirname "$0"/..)"
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

VERSION=smoke-test sh scripts/build.sh "$tmp/newsmd"
bin=$tmp/newsmd
# Mirror the image's settings; no feeds, so nothing leaves this machine.
printf 'feeds: !replace []\n' > "$tmp/config.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export NEWSMD_CONFIG=$tmp/config.yaml
export NEWSMD_OUTPUT_DIR=$tmp/data/archive/_posts
export NEWSMD_STORE_PATH=$tmp/data/archive/newsmd.db
export NEWSMD_SERVER_LISTEN=127.0.0.1:$port
export NEWSMD_SERVER_TICK=200ms
export NEWSMD_LOG_FORMAT=json

fail() { echo "smoke: FAIL: $*"; exit 1; }

"$bin" version | grep -qx 'newsmd smoke-test' || fail "version"
echo "smoke: version ok"
"$bin" config check > "$tmp/effective.yaml" || fail "config check"
grep -q "listen: 127.0.0.1:$port" "$tmp/effective.yaml" || fail "config check ignores NEWSMD_SERVER_LISTEN"
echo "smoke: config check ok"
if NEWSMD_FETCH_DELAY=soon "$bin" config check > /dev/null 2>&1; then fail "config check accepted an invalid value"; fi
echo "smoke: config check rejects bad values"

"$bin" run > "$tmp/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  "$bin" healthcheck > /dev/null 2>&1 && break
  sleep 0.1
done
"$bin" healthcheck | grep -qx ok || { cat "$tmp/run.log"; fail "healthcheck"; }
echo "smoke: run answers /healthz, healthcheck ok"
for _ in $(seq 1 50); do
  "$bin" healthcheck --ready > /dev/null 2>&1 && break
  sleep 0.1
done
"$bin" healthcheck --ready > /dev/null || { cat "$tmp/run.log"; fail "readyz"; }
echo "smoke: run is ready"
kill -TERM "$pid"
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then fail "run still running 10 s after SIGTERM"; fi
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 143 ] || fail "run exited $rc after SIGTERM, want 143 (stopped by SIGTERM, nothing lost)"
pid=
if "$bin" healthcheck > /dev/null 2>&1; then fail "healthcheck passes with the daemon stopped"; fi
echo "smoke: run stopped cleanly on SIGTERM"
echo "smoke: 6 passed, 0 failed"
