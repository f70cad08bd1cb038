#!/bin/sh
# End-to-end: scripts/gen_data.lua on a small world, then notebooks 01 and 02 on it (twice, to
# check byte-identical outputs), and scripts/report.sh failing loudly on a broken notebook.
# Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/synth_notebooks.sh
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }

if "$C" scripts/gen_data.lua "$T/d1" customers=3000 titles=300 >"$T/log" 2>&1 &&
    "$C" scripts/gen_data.lua "$T/d2" customers=3000 titles=300 >>"$T/log" 2>&1; then
    ok "gen_data.lua writes a small world"
else
    bad "gen_data.lua writes a small world" "$(tail -3 "$T/log")"
fi
same=1
for f in titles.csv users.csv events.csv ratings.csv campaign.csv truth.csv README.md; do
    cmp -s "$T/d1/$f" "$T/d2/$f" || same=0
done
[ "$same" = 1 ] && ok "two generations are byte-identical" || bad "two generations are byte-identical"

if "$C" scripts/gen_data.lua >/dev/null 2>&1; then bad "gen_data.lua without a directory fails"
else ok "gen_data.lua without a directory fails"; fi
if "$C" scripts/gen_data.lua "$T/x" seeds=3 2>"$T/err" >/dev/null; then bad "unknown parameter fails"
elif grep -q "unknown parameter 'seeds'" "$T/err"; then ok "unknown parameter fails, naming it"
else bad "unknown parameter fails, naming it" "$(cat "$T/err")"; fi

if command -v gnuplot >/dev/null 2>&1; then
    for run in 1 2; do
        for nb in 01_explore 02_features; do
            if "$C" "notebooks/$nb.lua" "$T/d1" "$T/r$run" >"$T/log" 2>&1; then
                ok "$nb runs (pass $run)"
            else
                bad "$nb runs (pass $run)" "$(tail -5 "$T/log")"
            fi
        done
        cp "$T/d1/features.csv" "$T/features$run.csv" 2>/dev/null
    done
    if cmp -s "$T/features1.csv" "$T/features2.csv" &&
        cmp -s "$T/r1/01_explore.html" "$T/r2/01_explore.html" &&
        cmp -s "$T/r1/02_features.html" "$T/r2/02_features.html"; then
        ok "notebooks give byte-identical features and reports"
    else
        bad "notebooks give byte-identical features and reports"
    fi
    head -1 "$T/d1/features.csv" | grep -q "^user_id,.*,minutes_30,.*,churn$" &&
        ok "features.csv has the id first and the label last" ||
        bad "features.csv has the id first and the label last" "$(head -1 "$T/d1/features.csv")"
    rows=$(($(wc -l <"$T/d1/features.csv") - 1))
    act=$(awk -F, 'NR > 1 && $14 == 1' "$T/d1/users.csv" | wc -l)
    [ "$rows" -eq "$act" ] && ok "one feature row per active customer ($rows)" ||
        bad "one feature row per active customer" "rows $rows, active $act"
else
    echo "skip notebooks (gnuplot not installed)"
fi

# report.sh stops at a failing notebook and says which
mkdir -p "$T/tree/scripts" "$T/tree/notebooks" "$T/tree/data/synth"
cp scripts/report.sh "$T/tree/scripts/"
: >"$T/tree/data/synth/README.md"
printf 'print("fine")\n' >"$T/tree/notebooks/01_a.lua"
printf 'error("boom")\n' >"$T/tree/notebooks/02_b.lua"
printf 'print("never")\n' >"$T/tree/notebooks/03_c.lua"
if CHURNLAB="$C" sh "$T/tree/scripts/report.sh" >"$T/out" 2>"$T/err"; then
    bad "report.sh fails when a notebook fails"
elif grep -q "FAILED: notebooks/02_b.lua" "$T/err" && ! grep -q never "$T/out"; then
    ok "report.sh fails when a notebook fails, naming it, and stops"
else
    bad "report.sh fails when a notebook fails, naming it, and stops" "$(cat "$T/err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
