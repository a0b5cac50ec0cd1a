#!/usr/bin/env bash
# Takes a screenshot of a report page with headless Chromium, to check that it renders from disk
# with no network. Usage: scripts/screenshot.sh REPORT_DIR|index.html OUT.png [WIDTH] [HEIGHT]
# Exits non-zero when no browser is installed or no PNG comes out. The browser is taken from
# $CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH
# (Debian: apt-get install chromium).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT_DIR|index.html OUT.png [WIDTH] [HEIGHT]" >&2
    exit 2
fi
page=$1
out=$2
width=${3:-1280}
height=${4:-2800}
[ -d "$page" ] && page="$page/index.html"
if [ ! -f "$page" ]; then
    echo "screenshot: no page at $page" >&2
    exit 1
fi

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
    for name in chromium chromium-browser google-chrome; do
        if command -v "$name" >/dev/null 2>&1; then browser=$name; break; fi
    done
fi
if [ -z "$browser" ]; then
    echo "screenshot: no Chromium found (apt-get install chromium, or set CHROMIUM)" >&2
    exit 1
fi

abs=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
rm -f "$out_abs"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# --no-sandbox: the sandbox cannot start as root in containers; the page is our own file.
# Network is cut off by pointing every host at nothing, so a page that needs it shows the gap.
# --virtual-time-budget: the shot is taken once the page and its figures have loaded, however
# long a busy machine takes to load them.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=10000 \
    --user-data-dir="$profile" --host-resolver-rules="MAP * ~NOTFOUND" \
    --window-size="$width,$height" --screenshot="$out_abs" "file://$abs" >/dev/null 2>&1 || true

if [ ! -s "$out_abs" ] || [ "$(head -c 8 "$out_abs" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    echo "screenshot: $browser produced no PNG for $abs" >&2
    exit 1
fi
echo "$out_abs"
