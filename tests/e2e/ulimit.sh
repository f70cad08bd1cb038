#!/bin/sh
# Start-up under an address-space limit (`ulimit -v`, issue 22): OpenBLAS's constructor maps
# a 128 MB buffer per thread before main() and retried a failed mmap for ever, so churnlab
# spun at start-up under 300 MB (under 8 GB on a 64-core machine). Now it starts with as many
# threads as fit, or fails at once with a message; cl.threads(n) never asks OpenBLAS for more
# than fits. Every run is bounded by timeout(1): a hang is a failure, not a stuck test.
# Skipped under sanitizers (ASan reserves terabytes of shadow memory, so no limit works).
# Last line "N passed, M failed[, K skipped]".
CL=${CHURNLAB:-./churnlab}
if [ -n "${CHURNLAB_SANITIZER:-}" ] || ! command -v timeout >/dev/null; then
    echo "skip address-space limits (sanitizer build or no timeout(1))"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; cat "$T/err"; fi; }
# limited KB code...: runs churnlab -e code under `ulimit -v KB`; status in $rc
limited() {
    kb=$1; shift
    timeout 60 sh -c 'ulimit -v "$1" || exit 99; shift; exec "$@"' sh "$kb" "$CL" "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
}

for kb in 300000 250000 200000; do
    limited $kb -e 'print("up")'
    check "ulimit -v $kb: starts (rc=$rc)" "[ $rc = 0 ] && [ \"\$(cat '$T/out')\" = up ]"
done

# More threads than fit, asked for in the environment and in Lua: capped, and BLAS computes
# the same product as without a limit, or, when its work buffer cannot fit, fails saying so.
cat > "$T/mm.lua" <<'LUA'
local cl = require "churnlab"
local n = cl.threads(8)
io.write(n, "\t") io.flush()
local T = cl.tensor
local c = T.randn(300, 200, {seed = 1}):mm(T.randn(200, 100, {seed = 2}))
print(string.format("%.6g", c:sum()))
LUA
"$CL" -e 'require("churnlab").threads(1)' "$T/mm.lua" >"$T/free" 2>"$T/err"
free_sum=$(cut -f2 "$T/free")
OMP_NUM_THREADS=64 limited 340000 "$T/mm.lua"
check "ulimit -v 340000, OMP_NUM_THREADS=64, cl.threads(8): runs on one thread (rc=$rc)" \
    "[ $rc = 0 ] && [ \"\$(cut -f1 '$T/out')\" = 1 ]"
check "... and the product is the unlimited one" \
    "[ -n '$free_sum' ] && [ \"\$(cut -f2 '$T/out')\" = '$free_sum' ]"
OMP_NUM_THREADS=64 limited 250000 "$T/mm.lua"
check "ulimit -v 250000: starts, but mm fails at once (rc=$rc)" \
    "[ $rc = 1 ] && [ \"\$(cut -f1 '$T/out')\" = 1 ]"
check "... saying why" "grep -q 'mm: OpenBLAS needs .* MB more address space.*ulimit -v' '$T/err'"
# Room for two threads but not for eight: cl.threads(8) must not spin.
limited 600000 "$T/mm.lua"
check "ulimit -v 600000, cl.threads(8): capped, same product (rc=$rc)" \
    "[ $rc = 0 ] && [ \"\$(cut -f1 '$T/out')\" -lt 8 ] && [ \"\$(cut -f2 '$T/out')\" = '$free_sum' ]"

for kb in 150000 100000; do
    limited $kb -e 'print("up")'
    check "ulimit -v $kb: fails at once (rc=$rc)" "[ $rc = 1 ] && [ ! -s '$T/out' ]"
    check "... saying which limit and how much is needed" \
        "grep -q 'address-space limit (ulimit -v) of .* MB is too small.*raise it to at least' '$T/err'"
done

# No limit: nothing changes (no re-run, the default thread count).
"$CL" -e 'print(os.getenv("OMP_NUM_THREADS") or "unset", require("churnlab").threads())' \
    >"$T/out" 2>"$T/err"
procs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 0)
check "no limit: OMP_NUM_THREADS untouched" \
    "[ \"\$(cut -f1 '$T/out')\" = '${OMP_NUM_THREADS:-unset}' ]"
[ -z "${CHURNLAB_THREADS:-}" ] && [ -z "${OMP_NUM_THREADS:-}" ] &&
    check "no limit: every core ($procs)" "[ \"\$(cut -f2 '$T/out')\" = '$procs' ]"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
