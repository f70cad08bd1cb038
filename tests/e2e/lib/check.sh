# Sourced by tests/e2e/*.sh first: CL (the binary under test), a temporary folder T removed at
# exit, the pass/fail counters and `check NAME CONDITION` (CONDITION is eval'd; prints ok/FAIL
# and counts). A test ends with: echo "$pass passed, $fail failed"; [ $fail -eq 0 ]
CL=${CHURNLAB:-./churnlab}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
