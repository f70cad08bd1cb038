#!/bin/sh
# File-level hostile inputs (issue 22): cl.load on a FIFO blocked for ever waiting for a
# writer; now it is refused at once, naming the file and what it is. Bounded by timeout(1).
# Last line "N passed, M failed".
CL=${CHURNLAB:-./churnlab}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; cat "$T/out"; fi; }

mkfifo "$T/pipe.clm"
timeout 30 "$CL" -e "local cl = require 'churnlab' print(pcall(cl.load, '$T/pipe.clm'))" \
    >"$T/out" 2>&1
rc=$?
check "cl.load on a FIFO returns (rc=$rc)" "[ $rc != 124 ]"
check "... saying it is a FIFO, naming it" "grep -q \"'$T/pipe.clm'.*a FIFO, not a regular file\" '$T/out'"
timeout 30 "$CL" -e "local cl = require 'churnlab' print(pcall(cl.load, '$T'))" >"$T/out" 2>&1
check "cl.load on a directory: named as one" "grep -q 'a directory, not a regular file' '$T/out'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
