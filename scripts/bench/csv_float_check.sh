#!/bin/sh
# The number parser's exact 128-bit path (core/frame/textnum.c) against glibc strtod on
# N inputs (default 10^8; the unit suite runs 10^6 of the same generator): random digit
# strings, %.15g..%.19g of random doubles, exact halfway points and their neighbours.
# Not timed; a check too slow for the unit suite. Prints one machine-readable line.
#   sh scripts/bench/csv_float_check.sh [N]
set -eu
cd "$(dirname "$0")/../.."
n="${1:-100000000}"
make -s build/release/tests/core/frame/test_textnum
if TEXTNUM_STRTOD_N="$n" build/release/tests/core/frame/test_textnum >/dev/null; then
    echo "check suite=csv case=float_vs_strtod inputs=$n mismatches=0 result=pass"
else
    echo "check suite=csv case=float_vs_strtod inputs=$n result=FAIL"
    exit 1
fi
