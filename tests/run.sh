#!/bin/sh
# Runs every test of one build variant and ends with one line "N passed, M failed".
#   tests/run.sh build/release [c|lua|e2e]   (default: all kinds)
# cmocka binaries: build/<variant>/tests/core/<subsystem>/test_*; Lua tests: tests/lua/*.lua run by the
# churnlab executable from the top of the tree; end-to-end: tests/e2e/*.sh.
# A test file that exits non-zero without reporting counts counts as one failure.
# VALGRIND=1 runs the Lua tests under valgrind (errors and definite leaks fail).
B=${1:?usage: tests/run.sh build/<variant> [c|lua|e2e]}
ONLY=${2:-all}
cd "$(dirname "$0")/.." || exit 2
# Sanitizer builds: a huge allocation must come back as NULL (churnlab reports out of memory)
# rather than abort, and leaks fail the run.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
case "$B" in
    */address | */undefined) export CHURNLAB_SANITIZER="${B##*/}" ;;
esac
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # file-label exit-code: the LAST "N passed, M failed[, K skipped]" line of $log
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); p=${p:-0}
    f=$(echo "$last" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p'); f=${f:-0}
    s=$(echo "$last" | sed -n 's/^.*failed, \([0-9]*\) skipped.*/\1/p'); s=${s:-0}
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    [ "$f" -gt 0 ] && failures="$failures $1"
}

if [ "$ONLY" = all ] || [ "$ONLY" = c ]; then
    for t in $(find "$B/tests" -type f -name 'test_*' ! -name '*.d' | sort); do
        [ -x "$t" ] || continue
        echo "== $t"
        # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] M test(s), listed below:"
        "$t" >"$log" 2>&1; rc=$?
        cat "$log"
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
        printf '%s passed, %s failed\n' "$p" "$f" >"$log"
        count "$t" "$rc"
    done
fi

if [ "$ONLY" = all ] || [ "$ONLY" = lua ]; then
    for t in tests/lua/*.lua; do
        [ -f "$t" ] || continue
        echo "== $t"
        if [ -n "${VALGRIND:-}" ]; then
            valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                "$B/churnlab" "$t" >"$log" 2>&1; rc=$?
        else
            "$B/churnlab" "$t" >"$log" 2>&1; rc=$?
        fi
        cat "$log"
        count "$t" "$rc"
    done
fi

if [ "$ONLY" = all ] || [ "$ONLY" = e2e ]; then
    for t in tests/e2e/*.sh; do
        [ -f "$t" ] || continue
        echo "== $t"
        CHURNLAB="$B/churnlab" sh "$t" >"$log" 2>&1; rc=$?
        cat "$log"
        count "$t" "$rc"
    done
fi

[ -n "$failures" ] && echo "failing:$failures"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
