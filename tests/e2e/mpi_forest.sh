#!/bin/sh
# End-to-end: data-parallel forest and tree over MPI (core/trees/forest.h, cl_forest_fit_dist).
# One process without mpirun and mpirun -np 1, 2 and 3 with 1 or 2 threads must save the same
# model file, byte for byte: bootstrap, mtry sampling, a categorical column, missing values,
# class and sample weights, the OOB AUC (stored in the file); a CART tree likewise. The ranks'
# shards are uneven (12000 rows over 3 ranks are not the blocks of 2). A bad label on one rank
# stops both ranks with its message. Skipped, saying why, without MPI.
. tests/e2e/lib/check.sh

. tests/e2e/lib/mpi.sh
S=tests/e2e/mpi_forest.lua

for cfg in forest weighted tree; do
    CHURNLAB_THREADS=2 "$CL" $S "$T/$cfg.plain.clm" $cfg >"$T/$cfg.plain.out" 2>&1
    check "$cfg: one process fits" "[ -s '$T/$cfg.plain.clm' ]" || cat "$T/$cfg.plain.out"
    for np in 1 2 3; do
        for th in 1 2; do
            [ $np -eq 3 ] && [ $th -eq 2 ] && continue # 6 threads on 2 cores: slow, adds nothing
            CHURNLAB_THREADS=$th $MPIRUN -np $np "$CL" $S "$T/$cfg.$np.$th.clm" $cfg \
                >"$T/log" 2>&1
            check "$cfg: np=$np threads=$th gives the one-process model bytes" \
                "[ -s '$T/$cfg.$np.$th.clm' ] && cmp -s '$T/$cfg.plain.clm' '$T/$cfg.$np.$th.clm'" \
                || cat "$T/log"
        done
    done
done
check "the forest has an OOB AUC" "grep -q 'OOB AUC 0\.[0-9]' '$T/forest.plain.out'" \
    || cat "$T/forest.plain.out"

cat > "$T/bad.lua" <<LUA
local cl = require "churnlab"
local X = cl.tensor.randn(400, 3, {seed = 1})
local t = {}
for i = 1, 400 do t[i] = i % 2 end
if cl.mpi.rank() == 1 then t[7] = 2 end
local ok, err = pcall(function() cl.forest{trees = 4}:fit(X, cl.tensor.new(t), {verbose = false}) end)
print("rank", cl.mpi.rank(), ok, err)
LUA
timeout 60 $MPIRUN -np 2 "$CL" "$T/bad.lua" >"$T/out" 2>&1
rc=$?
check "a bad label on rank 1 fails both ranks (no hang)" "[ $rc -ne 124 ] && [ \$(grep -c 'false' '$T/out') -eq 2 ]" || cat "$T/out"
check "rank 0 names rank 1 and the reason" "grep -q 'rank 1: forest fit: label 7' '$T/out'" || cat "$T/out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
