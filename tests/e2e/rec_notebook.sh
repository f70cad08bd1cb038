#!/bin/sh
# End-to-end: notebooks/05_recommend.lua on a small generated world, twice: it runs, writes
# its report, and the two reports are byte-identical (recommenders are deterministic).
# Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/rec_notebook.sh
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }

if "$C" scripts/gen_data.lua "$T/d" customers=2000 titles=200 >"$T/log" 2>&1; then
    for run in 1 2; do
        if "$C" notebooks/05_recommend.lua "$T/d" "$T/r$run" >"$T/log" 2>&1 &&
            [ -s "$T/r$run/05_recommend.html" ]; then
            ok "05_recommend runs (pass $run)"
        else
            bad "05_recommend runs (pass $run)" "$(tail -5 "$T/log")"
        fi
    done
    cmp -s "$T/r1/05_recommend.html" "$T/r2/05_recommend.html" &&
        ok "two runs give byte-identical reports" || bad "two runs give byte-identical reports"
    grep -q "NDCG@10" "$T/r1/05_recommend.html" && grep -q "mean appeal" "$T/r1/05_recommend.html" &&
        ok "the report has the ranking metrics and the hidden-taste table" ||
        bad "the report has the ranking metrics and the hidden-taste table"
else
    bad "gen_data.lua writes a small world" "$(tail -3 "$T/log")"
fi
if "$C" notebooks/05_recommend.lua "$T/nowhere" "$T/r3" >/dev/null 2>"$T/err"; then
    bad "a missing data directory fails"
elif grep -q "make data" "$T/err"; then ok "a missing data directory fails, saying what to do"
else bad "a missing data directory fails, saying what to do" "$(cat "$T/err")"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
