#!/bin/sh
# The dashboard alone, against tests/browser/serve_mock.py (no C server needed): starts the mock
# on a free 127.0.0.1 port, runs tests/browser/serve.sh, then once more against a mock without
# /api/stream (the page must fall back to polling /api/monitor) and with calibration and the
# experiment null (the page must say when calibration settles and that no experiment runs), and
# once more with a mock that drops the stream every 3 s (the indicator must say "reconnecting"
# and come back to "live").
#   tests/browser/serve_mock_test.sh [OUTDIR]     (default build/browser-serve-mock)
# Last line "N passed, M failed"; skips like serve.sh without Chromium.
cd "$(dirname "$0")/../.." || exit 2
OUT=${1:-build/browser-serve-mock}
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "skip serve mock test (python3 not installed)"; echo "0 passed, 0 failed"; exit 0; }
mkdir -p "$OUT" || exit 2
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT INT TERM
passed=0 failed=0
run() { # name mock-args... ; expects EXPECT_LIVE in the environment
    name=$1; shift
    : >"$OUT/$name-mock.log"
    "$PY" tests/browser/serve_mock.py --port 0 "$@" >"$OUT/$name-mock.log" 2>&1 &
    pid=$!
    url=
    i=0
    while [ $i -lt 100 ]; do
        url=$(sed -n 's/^listening \(http:[^ ]*\)$/\1/p' "$OUT/$name-mock.log")
        [ -n "$url" ] && break
        sleep 0.1; i=$((i + 1))
    done
    if [ -z "$url" ]; then
        cat "$OUT/$name-mock.log"; echo "FAIL $name: the mock did not start"; failed=$((failed + 1)); return
    fi
    sh tests/browser/serve.sh "$url" "$OUT/$name" >"$OUT/$name.log" 2>&1
    sed "s/^/$name: /" "$OUT/$name.log"
    last=$(tail -n 1 "$OUT/$name.log")
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then failed=$((failed + 1)); else passed=$((passed + p)); failed=$((failed + f)); fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
}
EXPECT_LIVE=live run sse
EXPECT_LIVE=polling EXPECT_CALIBRATION=null run polling --no-sse --no-calibration --no-experiment
EXPECT_RECONNECT=1 run reconnect --stream-max-s 3
echo "screenshots in $OUT/sse, $OUT/polling and $OUT/reconnect"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
