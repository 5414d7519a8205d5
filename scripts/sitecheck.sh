#!/usr/bin/env bash
# sitecheck.sh — prove that newsmd's posts build in a REAL Jekyll site and a
# REAL Hugo site, and that each post's page carries its title and date.
#
# For every crawler/site/testdata/pages/NAME.html that has a NAME.want.json it runs
#   newsmd extract --config <repo>/config.yaml --url URL --html NAME.html \
#                  --out DIR --profile jekyll|hugo
# into a fresh Jekyll site's _posts/ and a fresh Hugo site's content/posts/
# (skeletons in scripts/sitecheck/{jekyll,hugo}), builds both sites offline,
# and checks each post's page with scripts/sitecheck/check.py:
#   ok GEN TITLE | FAIL GEN TITLE: reason   ...   N passed, N failed
# Exits non-zero on any failure, or when no post was checked.
#
# Environment:
#   SITECHECK_POSTS_DIR  skip the binary; take ready-made posts from
#                        DIR/jekyll/*.md and DIR/hugo/*.md, each checked
#                        against DIR/<post file stem>.want.json
#                        (scripts/sitecheck/standin is such a DIR)
#   SITECHECK_PAGES_DIR  test pages (default <repo>/crawler/site/testdata/pages)
#   SITECHECK_CONFIG     newsmd config (default <repo>/config.yaml)
#   SITECHECK_BIN        use this newsmd binary instead of building
#                        ./cmd/newsmd
#   SITECHECK_KEEP=1     keep the temp dir (sites, logs) and print its path
#   SITECHECK_VERBOSE=1  print each post's file and page path
# Needs jekyll, hugo and python3: runs scripts/install-site-tools.sh when
# one is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/.." && pwd))"
skel="$here/sitecheck"

if ! command -v jekyll >/dev/null 2>&1 || ! command -v hugo >/dev/null 2>&1 ||
   ! command -v python3 >/dev/null 2>&1 || [ ! -e /usr/share/zoneinfo/Asia/Singapore ]; then
  echo "sitecheck: site tools missing, running install-site-tools.sh"
  bash "$here/install-site-tools.sh"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sitecheck.XXXXXX")"
if [ "${SITECHECK_KEEP:-}" = 1 ]; then
  echo "sitecheck: keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi

jsite="$tmp/jekyll"
hsite="$tmp/hugo"
cp -R "$skel/jekyll" "$jsite"
cp -R "$skel/hugo" "$hsite"
mkdir -p "$jsite/_posts" "$hsite/content/posts"
manifest="$tmp/manifest.tsv"
: >"$manifest"

now() { date +%s.%N; }
since() { python3 -c 'import sys; print("%.1fs" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$(now)"; }
# row GEN WANT_JSON POST_REL ERROR  (tabs/newlines in ERROR flattened)
row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | tr '\t\n' '  ')" >>"$manifest"; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2], ""))' "$1" "$2"; }

site_dir() { case "$1" in jekyll) echo "_posts" ;; hugo) echo "content/posts" ;; esac; }
site_root() { case "$1" in jekyll) echo "$jsite" ;; hugo) echo "$hsite" ;; esac; }

if [ -n "${SITECHECK_POSTS_DIR:-}" ]; then
  posts="$(cd "$SITECHECK_POSTS_DIR" && pwd)"
  echo "sitecheck: ready-made posts from $posts (newsmd binary not used)"
  for gen in jekyll hugo; do
    [ -d "$posts/$gen" ] || continue
    for f in "$posts/$gen"/*.md; do
      [ -e "$f" ] || continue
      name="$(basename "$f")"
      rel="$(site_dir "$gen")/$name"
      cp "$f" "$(site_root "$gen")/$rel"
      want="$posts/${name%.md}.want.json"
      if [ -f "$want" ]; then row "$gen" "$want" "$rel" ""
      else row "$gen" "" "$rel" "no ${name%.md}.want.json beside the posts"; fi
    done
  done
else
  pages="${SITECHECK_PAGES_DIR:-$root/crawler/site/testdata/pages}"
  config="${SITECHECK_CONFIG:-$root/config.yaml}"
  if [ -n "${SITECHECK_BIN:-}" ]; then
    bin="$(cd "$(dirname "$SITECHECK_BIN")" && pwd)/$(basename "$SITECHECK_BIN")"
    echo "sitecheck: using newsmd binary $bin"
  else
    bin="$tmp/newsmd"
    echo "+ go build -o $bin ./cmd/newsmd"
    if ! (cd "$root" && go build -o "$bin" ./cmd/newsmd) >"$tmp/go-build.log" 2>&1; then
      sed 's/^/    /' "$tmp/go-build.log"
      echo "FAIL build newsmd: go build ./cmd/newsmd failed"
      echo "0 passed, 1 failed"
      exit 1
    fi
  fi
  echo "sitecheck: pages from $pages, config $config"
  declare -A owner=()
  for html in "$pages"/*.html; do
    [ -e "$html" ] || continue
    want="${html%.html}.want.json"
    [ -f "$want" ] || continue
    url="$(json_field "$want" url)"
    for gen in jekyll hugo; do
      out="$(site_root "$gen")/$(site_dir "$gen")"
      err="$tmp/extract.err"
      set +e
      written="$(cd "$root" && "$bin" extract --config "$config" --url "$url" \
                   --html "$html" --out "$out" --profile "$gen" 2>"$err")"
      rc=$?
      set -e
      if [ "$rc" -ne 0 ]; then
        row "$gen" "$want" "" "newsmd extract exited $rc for $(basename "$html"): $(tail -n 3 "$err")"
        continue
      fi
      path="$(printf '%s\n' "$written" | sed '/^[[:space:]]*$/d' | tail -n 1)"
      case "$path" in /*) ;; *) path="$root/$path" ;; esac
      if [ -z "$written" ] || [ ! -f "$path" ]; then
        row "$gen" "$want" "" "newsmd extract printed no written file for $(basename "$html") (stdout: $written)"
        continue
      fi
      if [ "$(cd "$(dirname "$path")" && pwd)" != "$out" ]; then
        row "$gen" "$want" "" "newsmd extract wrote $path, not into $out"
        continue
      fi
      rel="$(site_dir "$gen")/$(basename "$path")"
      if [ -n "${owner[$gen/$rel]:-}" ]; then
        row "$gen" "$want" "" "$(basename "$html") wrote $rel, the same file as ${owner[$gen/$rel]}"
        continue
      fi
      owner[$gen/$rel]="$(basename "$html")"
      row "$gen" "$want" "$rel" ""
    done
  done
fi

# show_log FILE FAILED: on failure the error lines (no Ruby backtrace, no
# colours); otherwise only warnings.
show_log() {
  local clean
  clean="$(sed 's/\x1b\[[0-9;]*m//g' "$1")"
  if [ "$2" = failed ]; then
    printf '%s\n' "$clean" | grep -vE '^[[:space:]]+from /' | tail -n 15 | sed 's/^/    /'
  else
    printf '%s\n' "$clean" | grep -iE -A1 'warn|conflict|error|deprecat' | sed 's/^/    warning: /' || true
  fi
}

count() { awk -F'\t' -v g="$1" '$1 == g && $3 != ""' "$manifest" | wc -l | tr -d ' '; }

# Jekyll: Debian's jekyll, safe mode (no plugins), no disk cache, no network.
jstatus=ok
echo "+ jekyll build --safe --disable-disk-cache -s $jsite -d $jsite/_site"
t0="$(now)"
if (cd "$jsite" && JEKYLL_ENV=production jekyll build --safe --disable-disk-cache \
      -s "$jsite" -d "$jsite/_site") >"$tmp/jekyll.log" 2>&1; then
  echo "sitecheck: jekyll built $(count jekyll) posts in $(since "$t0")"
else
  jstatus=failed
  echo "sitecheck: jekyll build FAILED after $(since "$t0"):"
fi
show_log "$tmp/jekyll.log" "$jstatus"

# Hugo: Debian's hugo, dates rendered in Asia/Singapore (.Date.Local), cache
# kept in the temp dir, no git info, remote access denied in hugo.toml.
hstatus=ok
echo "+ hugo --source $hsite --destination $hsite/public --cacheDir $tmp/hugo-cache --printPathWarnings"
t0="$(now)"
if TZ=Asia/Singapore HUGO_ENVIRONMENT=production hugo --source "$hsite" \
      --destination "$hsite/public" --cacheDir "$tmp/hugo-cache" \
      --printPathWarnings >"$tmp/hugo.log" 2>&1; then
  echo "sitecheck: hugo built $(count hugo) posts in $(since "$t0")"
else
  hstatus=failed
  echo "sitecheck: hugo build FAILED after $(since "$t0"):"
fi
show_log "$tmp/hugo.log" "$hstatus"

verbose=()
[ "${SITECHECK_VERBOSE:-}" = 1 ] && verbose=(--verbose)
rc=0
python3 "$skel/check.py" --manifest "$manifest" \
  --site "jekyll=$jsite:$jsite/_site:$jstatus" \
  --site "hugo=$hsite:$hsite/public:$hstatus" "${verbose[@]}" || rc=$?
exit "$rc"
