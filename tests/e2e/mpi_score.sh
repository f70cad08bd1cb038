#!/bin/sh
# End-to-end: scripts/score.lua per rank under mpirun. The customers cut into 3 shards (uneven
# sizes, one of a single customer) and scored by 3 ranks, one shard each: the parts, put end to
# end, are byte for byte the file one process writes for the whole input, so the deciles rank
# every customer within the whole population (one customer alone would be decile 1 if a rank
# ranked its own shard). Also: {rank} is required with more than one rank, and a missing shard
# on one rank stops every rank with its name, no part written. Skipped, saying why, when the
# build has no MPI or mpirun is missing.
. tests/e2e/lib/check.sh

. tests/e2e/lib/mpi.sh

{
    echo 'customer,plan,tenure,tickets,churn'
    i=0
    while [ $i -lt 300 ]; do
        plan=basic; [ $((i % 3)) -eq 1 ] && plan=standard; [ $((i % 3)) -eq 2 ] && plan=premium
        churn=no; [ $(((i * 7) % 5)) -lt 2 ] && churn=yes
        echo "c$i,$plan,$(((i * 13) % 61 + 1)),$(((i * 11) % 7)),$churn"
        i=$((i + 1))
    done
} > "$T/all.csv"
# shards: rows 1-170, row 171 alone, rows 172-300 (each with the header)
head -1 "$T/all.csv" > "$T/h"
{ cat "$T/h"; sed -n '2,171p' "$T/all.csv"; } > "$T/shard.0.csv"
{ cat "$T/h"; sed -n '172p' "$T/all.csv"; } > "$T/shard.1.csv"
{ cat "$T/h"; sed -n '173,301p' "$T/all.csv"; } > "$T/shard.2.csv"

cat > "$T/fit.lua" <<LUA
local cl = require "churnlab"
local df = assert(cl.read_csv("$T/all.csv"))
local p = cl.prep.pipeline{target = "churn", positive = "yes", drop = {"customer"},
                           encode = "onehot", scale = "minmax"}
p:fit(df)
local X, y = p:transform(df)
local m = cl.gbdt{trees = 20, depth = 3, seed = 1}
m:fit(X, y, {verbose = false})
assert(m:save("$T/m.clm", {pipeline = p}))
LUA
"$CL" "$T/fit.lua" >"$T/log" 2>&1 || cat "$T/log"
check "model with pipeline saved" "[ -f '$T/m.clm' ]"

"$CL" scripts/score.lua "$T/m.clm" "$T/all.csv" "$T/whole.csv" --id customer --chunk 40 >"$T/log" 2>&1
check "one process scores the whole file" "[ \$(wc -l < '$T/whole.csv') -eq 301 ]" || cat "$T/log"

$MPIRUN -np 3 "$CL" scripts/score.lua "$T/m.clm" "$T/shard.{rank}.csv" "$T/part.{rank}.csv" \
    --id customer --chunk 40 >"$T/log" 2>&1
rc=$?
check "3 ranks score their shards" "[ $rc -eq 0 ] && [ -f '$T/part.0.csv' ] && [ -f '$T/part.1.csv' ] && [ -f '$T/part.2.csv' ]" || cat "$T/log"
{ cat "$T/part.0.csv"; tail -n +2 "$T/part.1.csv"; tail -n +2 "$T/part.2.csv"; } > "$T/joined.csv"
check "the parts end to end are the whole file's scores and deciles, byte for byte" \
    "cmp -s '$T/whole.csv' '$T/joined.csv'" || diff "$T/whole.csv" "$T/joined.csv" | head -5
check "the lone customer of rank 1 is not decile 1 by default: its decile is the population's" \
    "[ \"\$(tail -1 '$T/part.1.csv' | cut -d, -f3)\" = \"\$(grep '^c170,' '$T/whole.csv' | cut -d, -f3)\" ]"
check "deciles over the population are balanced (30 each, +-3)" \
    "[ \$(awk -F, 'FNR>1{c[\$3]++} END{for(k in c) if (c[k] < 27 || c[k] > 33) bad=1; print bad+0}' '$T/part.0.csv' '$T/part.1.csv' '$T/part.2.csv') -eq 0 ]"
check "each rank reports the population" "[ \$(grep -c 'of 300 customers' '$T/log') -eq 3 ]" || cat "$T/log"
check "no temporary files left" "[ \$(ls '$T' | grep -c tmp) -eq 0 ]"

timeout 60 $MPIRUN -np 2 "$CL" scripts/score.lua "$T/m.clm" "$T/all.csv" "$T/p.{rank}.csv" >"$T/log" 2>&1
rc=$?
check "without {rank} in the input, 2 ranks are refused" "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'put {rank} in the input and output paths' '$T/log'" || cat "$T/log"

rm "$T/shard.2.csv"
rm -f "$T"/part.*
timeout 60 $MPIRUN -np 3 "$CL" scripts/score.lua "$T/m.clm" "$T/shard.{rank}.csv" "$T/part.{rank}.csv" >"$T/log" 2>&1
rc=$?
check "a missing shard on rank 2 stops every rank (no hang)" "[ $rc -ne 0 ] && [ $rc -ne 124 ]" || cat "$T/log"
check "the message names rank 2 and the file" "grep -q 'rank 2: .*shard.2.csv' '$T/log' && [ \$(grep -c 'rank 2 failed' '$T/log') -eq 2 ]" || cat "$T/log"
check "no part written by any rank" "[ \$(ls '$T' | grep -c part) -eq 0 ]" || ls "$T"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
