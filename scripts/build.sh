#!/bin/sh
# The release build of newsmd: a static binary with the version stamped.
# The Dockerfile and CI both run this script, so they build the same way.
#   scripts/build.sh [OUTPUT]     (VERSION=v1.2.3 to stamp a version)
set -eu
out=${1:-newsmd}
version=${VERSION:-}
if [ -z "$version" ]; then
  version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X main.version=${version}" \
  -o "$out" ./cmd/newsmd
echo "built $out ($version)"
