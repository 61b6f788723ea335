#!/usr/bin/env bash
# Opens an HTML page in headless Chromium, screenshots it, and fails if the page raised a
# JavaScript error, if its inline script did not run, or if the screenshot is blank.
#
#   scripts/browser-check.sh PATH_TO_HTML OUT_PNG
#
# Env: CHROMIUM (default /usr/bin/chromium), WINDOW_SIZE (default 1280,2000).
# Exit: 0 ok, 1 the page failed a check, 2 the check itself could not run.
set -euo pipefail

die() { echo "browser-check: $*" >&2; exit 2; }
[ $# -eq 2 ] || die "usage: $0 PATH_TO_HTML OUT_PNG"
html=$1
png=$2
[ -f "$html" ] || die "no such file: $html"
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "browser-check: $chromium missing; installing chromium" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 \
            || die "could not install chromium"
    else
        die "$chromium not found; install it (apt-get install chromium) or set CHROMIUM"
    fi
fi
command -v python3 >/dev/null || die "python3 not found"
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    echo "browser-check: note: no CJK font installed; Chinese text will show as boxes" \
         "(apt-get install fonts-noto-cjk)" >&2
fi

url=$(python3 -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).resolve().as_uri())' "$html")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$png")"
rm -f "$png"

# Everything that could reach the network is off: the page must not need it.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --hide-scrollbars --mute-audio)

# 1. Screenshot.
if ! timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile1" \
        --screenshot="$png" --window-size="${WINDOW_SIZE:-1280,2000}" "$url" \
        >"$work/shot.out" 2>"$work/shot.log"; then
    tail -20 "$work/shot.log" >&2
    die "chromium failed to take the screenshot"
fi
[ -s "$png" ] || { tail -20 "$work/shot.log" >&2; die "chromium wrote no screenshot to $png"; }

# 2. The DOM after scripts ran, with the console on stderr.
if ! timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile2" \
        --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom "$url" \
        >"$work/dom.html" 2>"$work/console.log"; then
    tail -20 "$work/console.log" >&2
    die "chromium failed to load the page"
fi

# 3. Judge: console errors, script ran, screenshot not blank.
python3 "$here/browser-check.py" --html "$html" --png "$png" \
    --dom "$work/dom.html" --log "$work/console.log"
