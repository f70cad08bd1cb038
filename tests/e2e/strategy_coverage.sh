#!/bin/sh
# End-to-end smoke test of scripts/strategy_coverage.lua (make strategy-coverage runs it on 50
# worlds): 3 small worlds, each through gen_data, notebook 02 and notebook 06; the JSON it
# writes counts 5 plans per world and says how many intervals held the truth.
# Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/strategy_coverage.sh
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
    echo "skip strategy_coverage (no gnuplot: notebook 06 draws figures)"
    echo "0 passed, 0 failed"
    exit 0
fi
if CHURNLAB="$C" "$C" scripts/strategy_coverage.lua 3 2000 1 "$T/cov.json" >"$T/log" 2>&1; then
    ok "strategy_coverage.lua runs 3 worlds"
else
    bad "strategy_coverage.lua runs 3 worlds" "$(tail -5 "$T/log")"
fi
if grep -q '"worlds": 3, "customers": 2000, "first_seed": 1, "level": 0.9, "covered": [0-9]*, "plans": 15,' "$T/cov.json" 2>/dev/null; then
    ok "its JSON counts 15 plans over 3 worlds"
else
    bad "its JSON counts 15 plans over 3 worlds" "$(cat "$T/cov.json" 2>/dev/null)"
fi
[ "$(grep -c '^seed [123] (' "$T/log")" = 3 ] && ok "one line per world" || bad "one line per world" "$(cat "$T/log")"
if "$C" scripts/strategy_coverage.lua 1 2000 1 /nonexistent-dir/cov.json >"$T/log2" 2>&1; then
    bad "an unwritable output fails"
elif grep -q "cannot write /nonexistent-dir/cov.json" "$T/log2"; then
    ok "an unwritable output fails, naming the file"
else
    bad "an unwritable output fails, naming the file" "$(tail -3 "$T/log2")"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
