#!/bin/sh
# End-to-end: data-parallel gbdt over MPI. The same data trained by one process (no mpirun),
# by mpirun -np 1, 2 and 3 (each rank reads its block of the CSV: read_csv{shard, of}) and with
# 1 or 2 threads must give the same model file, byte for byte: depth-wise with row and column
# sampling, a sampled binning (210k rows > the 200k binning sample) and early stopping on a
# sharded validation set; leaf-wise with the AUC metric. Also: an error on one rank reaches
# every rank (the job ends with its message instead of hanging). Skipped, saying why, when
# the build has no MPI or mpirun is missing.
. tests/e2e/lib/check.sh

. tests/e2e/lib/mpi.sh
S=tests/e2e/mpi_train.lua

"$CL" $S gen "$T/d.csv" "$T/v.csv" 210000 || { echo "FAIL data generation"; exit 1; }
for cfg in depthwise leafwise; do
    CHURNLAB_THREADS=2 "$CL" $S fit "$T/d.csv" "$T/v.csv" "$T/$cfg.plain.clm" $cfg >"$T/log" 2>&1
    check "$cfg: one process fits" "[ -s '$T/$cfg.plain.clm' ]" || cat "$T/log"
    for np in 1 2 3; do
        for th in 1 2; do
            [ $np -eq 3 ] && [ $th -eq 2 ] && continue # 6 threads on 2 cores: slow, adds nothing
            CHURNLAB_THREADS=$th $MPIRUN -np $np "$CL" $S fit "$T/d.csv" "$T/v.csv" \
                "$T/$cfg.$np.$th.clm" $cfg >"$T/log" 2>&1
            check "$cfg: np=$np threads=$th gives the same model bytes" \
                "cmp -s '$T/$cfg.plain.clm' '$T/$cfg.$np.$th.clm'" || cat "$T/log"
        done
    done
done

# cl.mpi and read_csv shards: the blocks of the ranks are the file's rows, in order
cat > "$T/shard.lua" <<LUA
local cl = require "churnlab"
local r, n = cl.mpi.rank(), cl.mpi.size()
local df = cl.read_csv("$T/v.csv", {shard = r, of = n})
local rows = cl.mpi.allreduce(df.nrow and df:nrow() or #df.a)
local mx = cl.mpi.allreduce(r, "max")
local sums = cl.mpi.allreduce({1, r})
cl.mpi.barrier()
if r == 0 then print("rows", rows, "max", mx, "sums", sums[1], sums[2]) end
LUA
$MPIRUN -np 3 "$CL" "$T/shard.lua" >"$T/out" 2>&1
check "read_csv shards cover the file; allreduce sum/max over 3 ranks" \
    "grep -q '^rows	21000	max	2	sums	3.0	3.0' '$T/out'" || cat "$T/out"

# a failure on one rank only: rank 1 passes a NaN label; every rank must stop, not hang
cat > "$T/bad.lua" <<LUA
local cl = require "churnlab"
local X = cl.tensor.randn(500, 3, {seed = 1})
local y = cl.tensor.zeros(500)
if cl.mpi.rank() == 1 then y = y:add(0 / 0) end
local ok, err = pcall(function() cl.gbdt{trees = 3}:fit(X, y, {verbose = false}) end)
print("rank", cl.mpi.rank(), ok, err)
LUA
timeout 60 $MPIRUN -np 2 "$CL" "$T/bad.lua" >"$T/out" 2>&1
rc=$?
check "a bad shard on rank 1 fails every rank (no hang)" "[ $rc -ne 124 ] && [ \$(grep -c 'false' '$T/out') -eq 2 ]" || cat "$T/out"
check "the other rank names rank 1 and the reason" "grep -q 'rank 1: gbdt fit: label' '$T/out'" || cat "$T/out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
