#!/usr/bin/env bash
# promtool check metrics on what newsmd exposes: a scrape of /metrics from
# a started `run`, and the file of `once --metrics-file`. Both crawl the
# built-in fake site (`newsmd demo` writes the config), so the series
# carry real values and nothing leaves this machine. Installs Debian's
# prometheus package (promtool) when promtool is missing. Then checks the
# example alerting rules (promtool check rules).
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || dirname "$0"/..)"
if ! command -v promtool > /dev/null; then
  echo "installing promtool (Debian's prometheus package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends prometheus > /dev/null 2>&1 ||
    { apt-get update > /dev/null && apt-get install -y --no-install-recommends prometheus > /dev/null; }
fi
promtool --version | head -1
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "promcheck: FAIL: $*"; exit 1; }

go build -o "$tmp/newsmd" ./cmd/newsmd
bin=$tmp/newsmd
"$bin" demo --dir "$tmp/demo" --stories 8 > /dev/null 2>&1 || fail "demo"

# The demo's fake site is gone now: its feeds fail, which puts values in
# the failure series too.
"$bin" once --config "$tmp/demo/config.yaml" --metrics-file "$tmp/newsmd.prom" > /dev/null 2>&1 || true
[ -s "$tmp/newsmd.prom" ] || fail "once --metrics-file wrote nothing"
promtool check metrics < "$tmp/newsmd.prom" || fail "once --metrics-file"
echo "promcheck: once --metrics-file passes ($(grep -c '^newsmd_' "$tmp/newsmd.prom") newsmd series)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NEWSMD_SERVER_LISTEN=127.0.0.1:$port NEWSMD_SERVER_TICK=200ms "$bin" run --config "$tmp/demo/config.yaml" > "$tmp/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/metrics" > "$tmp/scrape.txt" || { cat "$tmp/run.log"; fail "scrape /metrics"; }
promtool check metrics < "$tmp/scrape.txt" || fail "/metrics of run"
echo "promcheck: /metrics of run passes ($(grep -c '^newsmd_' "$tmp/scrape.txt") newsmd series)"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 143 ] || fail "run exited $rc after SIGTERM, want 143 (stopped by SIGTERM, nothing lost)"
pid=

promtool check rules examples/prometheus/alerts.yml || fail "examples/prometheus/alerts.yml"
