#!/usr/bin/env bash
# install-site-tools.sh — install the static site generators that
# scripts/sitecheck.sh builds real sites with: Debian's jekyll and hugo,
# plus tzdata (Jekyll's `timezone:` needs the zoneinfo files) and python3
# (the page checker; stdlib only).
#
# Idempotent: does nothing when jekyll, hugo and python3 are on PATH and
# the Asia/Singapore zone file exists. Non-interactive. Needs root (or sudo)
# and Debian's package archive; fetches nothing else.
#
# --no-install-recommends matters: hugo recommends golang-any and git, and
# jekyll recommends jekyll-theme-minima; the check site needs none of them.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
have jekyll || missing+=(jekyll)
have hugo   || missing+=(hugo)
have python3 || missing+=(python3)
[ -e /usr/share/zoneinfo/Asia/Singapore ] || missing+=(tzdata)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-site-tools: already installed, nothing to do"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO="sudo -E"; else
      echo "install-site-tools: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "install-site-tools: installing Debian packages: ${missing[*]}"
  start=$(date +%s)
  echo "+ apt-get update"
  $SUDO apt-get update -qq
  echo "+ apt-get install -y --no-install-recommends ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null
  echo "install-site-tools: installed in $(( $(date +%s) - start ))s"
fi

# Report what is there; fail if anything is still missing.
for t in jekyll hugo python3; do
  if ! have "$t"; then
    echo "install-site-tools: $t still not on PATH" >&2
    exit 1
  fi
done
echo "jekyll: $(jekyll --version 2>/dev/null | head -n1) ($(command -v jekyll))"
echo "hugo:   $(hugo version 2>/dev/null | head -n1) ($(command -v hugo))"
echo "python3: $(python3 --version 2>&1) ($(command -v python3))"
