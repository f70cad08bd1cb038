#!/bin/sh
# End-to-end: data-parallel logreg over MPI (exact gradient sums, core/base/dist_logit.h).
# mpirun -np 1, 2 and 3 with 1 or 2 threads must save the same model file, byte for byte, and
# the coefficients must be those one process fits without mpirun (that one sums in double per
# block of rows, so only to a tolerance: both reach |gradient| < 1e-8 of the same objective,
# whose Hessian here is >= 0.01 in every direction, so coefficients agree to ~1e-6). A bad
# label on one rank stops both ranks with its message. Skipped, saying why, without MPI.
CL=${CHURNLAB:-./churnlab}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

. tests/e2e/lib/mpi.sh
S=tests/e2e/mpi_logreg.lua

"$CL" $S "$T/plain.clm" >"$T/plain.out" 2>&1
check "one process fits" "[ -s '$T/plain.clm' ] && grep -q '^coef' '$T/plain.out'" || cat "$T/plain.out"
for np in 1 2 3; do
    for th in 1 2; do
        [ $np -eq 3 ] && [ $th -eq 2 ] && continue
        CHURNLAB_THREADS=$th $MPIRUN -np $np "$CL" $S "$T/$np.$th.clm" >"$T/$np.$th.out" 2>&1
        check "np=$np threads=$th: the same model bytes as np=1 threads=1" \
            "[ -s '$T/$np.$th.clm' ] && cmp -s '$T/1.1.clm' '$T/$np.$th.clm'" || cat "$T/$np.$th.out"
    done
done
check "the coefficients of 3 ranks are one process's (to 1e-6)" \
    "paste -d' ' '$T/plain.out' '$T/3.1.out' | awk '{n=(NF-2)/2; bad=0; for(i=2;i<=n+1;i++) if (\$i != \"intercept\") { d=\$i-\$(i+n+1); if (d<0) d=-d; if (d>1e-6) bad=1 } exit bad}'" \
    || { cat "$T/plain.out" "$T/3.1.out"; }

cat > "$T/bad.lua" <<LUA
local cl = require "churnlab"
local X = cl.tensor.randn(400, 3, {seed = 1})
local t = {}
for i = 1, 400 do t[i] = i % 2 end
if cl.mpi.rank() == 1 then t[7] = 2 end
local ok, err = pcall(function() cl.logreg{}:fit(X, cl.tensor.new(t)) end)
print("rank", cl.mpi.rank(), ok, err)
LUA
timeout 60 $MPIRUN -np 2 "$CL" "$T/bad.lua" >"$T/out" 2>&1
rc=$?
check "a bad label on rank 1 fails both ranks (no hang)" "[ $rc -ne 124 ] && [ \$(grep -c 'false' '$T/out') -eq 2 ]" || cat "$T/out"
check "rank 0 names rank 1 and the reason" "grep -q 'rank 1: logreg: label at row 7' '$T/out'" || cat "$T/out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
