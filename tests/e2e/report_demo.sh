#!/bin/sh
# End-to-end run of scripts/report_demo.lua (churnlab.plot + churnlab.report on the Telco
# data): the HTML report with its inlined figures and assets, the Markdown twin, the index
# page, and byte-identical output when run twice. Skips without the data or gnuplot.
# Last line: "N passed, M failed[, K skipped]".
#   CHURNLAB=build/release/churnlab sh tests/e2e/report_demo.sh
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
DATA=../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv
if [ ! -f "$DATA" ]; then echo "skip report demo (Telco data not found)"; echo "0 passed, 0 failed, 1 skipped"; exit 0; fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "skip report demo (gnuplot not installed: apt-get install gnuplot-nox)"
    echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

if "$C" scripts/report_demo.lua "$T/a/demo.html" "$DATA" >"$T/log" 2>&1; then ok "demo runs"; else cat "$T/log"; bad "demo runs"; fi
H="$T/a/demo.html"
check "one HTML file" '[ -s "$H" ] && head -1 "$H" | grep -qx "<!DOCTYPE html>"'
check "five inlined SVG figures" '[ "$(grep -c "^<svg viewBox=" "$H")" -eq 5 ]'
check "no figure failed" '! grep -q "Figure not drawn" "$H"'
check "no JavaScript or external resources" '! grep -qiE "<script|<link |src=\"https?:" "$H"'
check "headline metrics" 'grep -q "<div class=\"label\">Test AUC</div>" "$H"'
check "tables with numbers right-aligned" 'grep -q "<td class=\"num\">3875</td>" "$H"'
check "PNG, SVG and gnuplot script per figure" '[ "$(ls "$T/a/demo_files" | grep -c "\.png$")" -eq 5 ] && [ "$(ls "$T/a/demo_files" | grep -c "\.gp$")" -eq 5 ]'
check "the saved .gp scripts redraw their figure" '(cd "$T/a/demo_files" && rm fig03.png && gnuplot fig03.gp 2>/dev/null && [ -s fig03.png ])'
check "Markdown twin" 'grep -q "^| Contract | Customers | Churned | Churn rate | Mean monthly charges |$" "$T/a/demo.md"'
check "index page" 'grep -q "<a href=\"demo.html\">Telco churn at a glance</a>" "$T/a/index.html"'
"$C" scripts/report_demo.lua "$T/a/demo.html" "$DATA" >/dev/null 2>&1
cp "$H" "$T/first.html"
"$C" scripts/report_demo.lua "$T/a/demo.html" "$DATA" >/dev/null 2>&1
check "byte-identical when run again" 'cmp -s "$H" "$T/first.html"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
