#!/bin/sh
# make check-browser: the demo's output file in a real browser (issue 13).
# Installs what is missing (Debian's chromium; tests/browser's npm packages,
# exactly as package-lock.json pins them), builds the h5web page
# (tests/browser: @h5web/app + @h5web/h5wasm, React, Vite), runs the demo's
# network (networks/brette2007_coba.yaml, 1 s) and opens its file in headless
# Chromium: tests/browser/run.mjs checks from the page that the first view is
# a line plot over time in ms, that a V trace opens over time in ms, that the
# raster preview is a heat map, and that no WebGL/texture error is logged.
# Screenshots in results/browser/. The last line is PASS or FAIL with a reason.
#
#   scripts/check-browser.sh [FILE.h5]   (a file given: open it instead of a demo run)
set -u
cd "$(dirname "$0")/.."
apical=${APICAL:-build/apical}
chromium=${CHROMIUM:-/usr/bin/chromium}
page=tests/browser
out=results/browser
log=build/check-browser.log
mkdir -p build "$out"
: > "$log"
fail() {
    [ -s "$log" ] && tail -30 "$log" | sed 's/^/    /'
    echo "FAIL make check-browser: $*"
    exit 1
}

APICAL_WITH_BROWSER=1 scripts/install-deps.sh >>"$log" 2>&1 \
    || fail "cannot install chromium (APICAL_WITH_BROWSER=1 scripts/install-deps.sh)"
[ -x "$chromium" ] || fail "no Chromium at $chromium"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
    || fail "needs Node.js >= 20.19 and npm (not found)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
         process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
    || fail "needs Node.js >= 20.19 (Vite 7), found $(node --version)"

# npm ci only when node_modules is missing or older than the lock file
if [ ! -f "$page/node_modules/.package-lock.json" ] ||
   [ "$page/package-lock.json" -nt "$page/node_modules/.package-lock.json" ]; then
    (cd "$page" && npm ci --no-audit --no-fund) >>"$log" 2>&1 \
        || fail "npm ci in $page failed (see $log)"
fi
# the page, when a source of it is newer than the build
stale=$(find "$page/index.html" "$page/main.jsx" "$page/vite.config.js" \
             "$page/package-lock.json" -newer "$page/dist/index.html" 2>/dev/null)
if [ ! -f "$page/dist/index.html" ] || [ -n "$stale" ]; then
    (cd "$page" && npx vite build) >>"$log" 2>&1 || fail "vite build in $page failed (see $log)"
fi

if [ $# -ge 1 ]; then
    file=$1
else
    # `make demo`'s run (same network and duration), into results/browser
    file=$out/brette2007_coba.h5
    rm -f "$file"
    "$apical" run networks/brette2007_coba.yaml -o "$file" --quiet >>"$log" 2>&1 \
        || fail "$apical run networks/brette2007_coba.yaml failed (see $log)"
fi

: > "$log"
node "$page/run.mjs" --file "$file" --out "$out" --chromium "$chromium" >"$log" 2>&1
rc=$?
sed 's/^/    /' "$log" | grep -v '^    \(PASS\|FAIL\)'
reason=$(grep '^FAIL: ' "$log" | tail -1 | sed 's/^FAIL: //')
if [ "$rc" = 0 ]; then
    echo "PASS make check-browser: $file in h5web (Chromium $("$chromium" --version 2>/dev/null | awk '{print $2}')), screenshots in $out/"
    exit 0
fi
echo "FAIL make check-browser: ${reason:-node $page/run.mjs exited $rc}"
exit 1
