#!/bin/sh
# Browser test of the `churnlab serve` dashboard: headless Chromium driven over the DevTools
# protocol (tests/browser/serve_cdp.py, python3 stdlib, --remote-debugging-pipe: no port opened)
# against a running server at URL (127.0.0.1 only): the page loads and renders monitor data,
# the live numbers change within a few seconds, first paint with data < 1 s, the table sorts
# and filters, a customer page (#/customer/ID of a real id from /api/monitor top) opens, an
# unknown id is reported on the page, no console errors/exceptions. Screenshots at 1400x900
# and 1280x800 of the main page and a customer page are kept in OUTDIR.
#   tests/browser/serve.sh URL OUTDIR
# Last line "N passed, M failed"; skips (exit 0, "0 passed, 0 failed") without Chromium/python3.
# Env: CHROMIUM (default /usr/bin/chromium, else /usr/bin/chromium-headless-shell),
#      EXPECT_LIVE=polling when the server has no /api/stream.
[ $# -eq 2 ] || { echo "usage: $0 URL OUTDIR" >&2; exit 2; }
URL=$1 OUT=$2
case "$URL" in
    http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
    *) echo "serve.sh talks to 127.0.0.1 only, got $URL" >&2; exit 2 ;;
esac
PY=/usr/bin/python3
skip() { echo "skip serve browser test ($1)"; echo "0 passed, 0 failed"; exit 0; }
if [ -z "$CHROMIUM" ]; then
    for c in /usr/bin/chromium /usr/bin/chromium-headless-shell; do
        [ -x "$c" ] && { CHROMIUM=$c; break; }
    done
fi
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || skip "Chromium not installed: apt-get install chromium"
[ -x "$PY" ] || skip "python3 not installed"
mkdir -p "$OUT" || exit 2
exec timeout 180 "$PY" "$(dirname "$0")/serve_cdp.py" "$CHROMIUM" "$URL" "$OUT"
