#!/bin/sh
# End-to-end: the README tour is a test (issue 13). Every ```lua block of README.md runs, in
# order, as one script (tests/e2e/readme_tour.lua), from a temporary folder so models/ and
# reports/ never land in the tree. Data: data/synth when `make data` made it, else a small
# world generated into the temporary folder (as synth_notebooks.sh does). A block needing
# ../shared/data runs when it is there and is skipped, saying why, when it is not: the second
# run points the shared folder elsewhere to check that path.
# Last line: "N passed, M failed, K skipped".
#   CHURNLAB=build/release/churnlab sh tests/e2e/readme_tour.sh
#   TOUR_SHARED=/elsewhere ...        (default: ../shared/data beside the checkout)
cd "$(dirname "$0")/../.." || exit 2
TOP=$PWD
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
SHARED=${TOUR_SHARED:-$TOP/../shared/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }
add_counts() { # the runner's last line
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    set -- $(echo "$last" | sed 's/[^0-9 ]//g')
    passed=$((passed + ${1:-0})); failed=$((failed + ${2:-1})); skipped=$((skipped + ${3:-0}))
}

if [ -f data/synth/users.csv ] && [ -f data/synth/events.csv ] && [ -f data/synth/ratings.csv ]; then
    SYNTH=$TOP/data/synth
    WORLD=""
else
    echo "note: data/synth missing (make data): a small world in a temporary folder"
    SYNTH=$T/synth
    WORLD="customers = 3000, titles = 300"
    "$C" scripts/gen_data.lua "$SYNTH" customers=3000 titles=300 >"$T/gen.log" 2>&1 ||
        bad "generate the tour's data" "$(tail -3 "$T/gen.log")"
fi

# the tree must not change: nothing written beside the README
before=$(ls -A "$TOP" "$TOP/models" "$TOP/reports" 2>/dev/null | cksum)

mkdir -p "$T/run"
(cd "$T/run" && "$C" "$TOP/tests/e2e/readme_tour.lua" "$TOP/README.md" "$SYNTH" "$SHARED" "$WORLD") \
    >"$T/out" 2>"$T/err"
rc=$?
# the verdicts, and the indented reason under each failure (not the tour's own output)
awk '/^(ok|FAIL|skip) / { print; f = /^FAIL/; next } f && /^     / { print; next } { f = 0 }' "$T/out"
add_counts "$T/out"
[ $rc -eq 0 ] || { echo "     (exit $rc) stderr:"; tail -20 "$T/err"; }

for f in models/mlp.clm reports/roc.png reports/roc.gp reports/models.html reports/index.html; do
    case $f in reports/*) command -v gnuplot >/dev/null 2>&1 || continue ;; esac # block skipped
    [ -s "$T/run/$f" ] && ok "the tour wrote $f (folder created)" || bad "the tour wrote $f"
done
after=$(ls -A "$TOP" "$TOP/models" "$TOP/reports" 2>/dev/null | cksum)
[ "$before" = "$after" ] && ok "the tour left the source tree alone" ||
    bad "the tour left the source tree alone"

# the skip path: no shared data -> the Telco block is skipped with its reason, nothing fails
(cd "$T/run" && "$C" "$TOP/tests/e2e/readme_tour.lua" "$TOP/README.md" "$SYNTH" "$T/no-shared" \
    "$WORLD" only-shared) >"$T/out2" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^skip README block .*: needs $T/no-shared/telco_churn/.*, not found" "$T/out2" &&
    grep -q '^0 passed, 0 failed' "$T/out2"; then
    ok "without ../shared/data the Telco block is skipped, saying why"
else
    bad "without ../shared/data the Telco block is skipped, saying why" "$(cat "$T/out2")"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
