#!/bin/sh
# Benchmark: first paint of the dashboard with live data (issue 16: "dashboard first paint < 1 s").
# Headless Chromium over the DevTools pipe reloads URL N times with the HTTP cache disabled and
# reads the page's own marks (data-first-data: monitor rendered into the DOM; data-first-paint:
# the frame after it; both performance.now() from navigation start) and, as the baseline beside
# it, Chromium's first-contentful-paint of the same document (static HTML, no data yet).
#   tests/browser/serve_paint_bench.sh URL [N=10]
# Prints "env ..." and "bench ..." lines; skips without Chromium. URL must be 127.0.0.1.
[ $# -ge 1 ] || { echo "usage: $0 URL [N]" >&2; exit 2; }
case "$1" in http://127.0.0.1:*|http://localhost:*) ;; *) echo "127.0.0.1 only, got $1" >&2; exit 2 ;; esac
if [ -z "$CHROMIUM" ]; then
    for c in /usr/bin/chromium /usr/bin/chromium-headless-shell; do [ -x "$c" ] && { CHROMIUM=$c; break; }; done
fi
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || { echo "skip serve_paint_bench (Chromium not installed: apt-get install chromium)"; exit 0; }
exec timeout 600 /usr/bin/python3 "$(dirname "$0")/serve_cdp.py" --bench "$CHROMIUM" "$1" "${2:-10}"
