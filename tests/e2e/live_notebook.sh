#!/bin/sh
# End-to-end: notebooks/08_live.lua (a month streamed through the live engine) on a small
# generated world after notebook 02, twice: it runs, writes its report with every section, and
# the two reports are byte-identical. Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/live_notebook.sh
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "skip 08_live (gnuplot not installed)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if "$C" scripts/gen_data.lua "$T/d" customers=3000 titles=300 >"$T/log" 2>&1 &&
    "$C" notebooks/02_features.lua "$T/d" "$T/r0" >>"$T/log" 2>&1; then
    ok "a small world and its features"
else
    bad "a small world and its features" "$(tail -3 "$T/log")"
fi
for run in 1 2; do
    if "$C" notebooks/08_live.lua "$T/d" "$T/r$run" "$T/none.clm" >"$T/log" 2>&1; then
        ok "08_live runs (pass $run)"
    else
        bad "08_live runs (pass $run)" "$(tail -5 "$T/log")"
    fi
done
f="$T/r1/08_live.html"
miss=""
for s in "Risk over the month" "Top movers" "Drift of the inputs" "Calibration as outcomes arrive" "Brier" "The recommendation experiment" "true lift"; do
    grep -q "$s" "$f" 2>/dev/null || miss="$miss [$s]"
done
[ -z "$miss" ] && ok "the report has every section" || bad "the report has every section" "missing:$miss"
cmp -s "$T/r1/08_live.html" "$T/r2/08_live.html" && ok "two runs give byte-identical reports" ||
    bad "two runs give byte-identical reports"
if "$C" notebooks/08_live.lua "$T/nowhere" "$T/r3" >/dev/null 2>"$T/err"; then
    bad "missing data fails"
elif grep -q "make data" "$T/err"; then ok "missing data fails, saying how to make it"
else bad "missing data fails, saying how to make it" "$(cat "$T/err")"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
