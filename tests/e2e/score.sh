#!/bin/sh
# End-to-end: scripts/score.lua scores a CSV in chunks (a quoted field with a newline among
# them), writes id, probability and a balanced risk decile, and fails cleanly on bad input.
. tests/e2e/lib/check.sh

# customers with a quoted, multi-line comment column
{
    echo 'customer,plan,tenure,tickets,note,churn'
    i=0
    while [ $i -lt 200 ]; do
        plan=basic; [ $((i % 3)) -eq 1 ] && plan=standard; [ $((i % 3)) -eq 2 ] && plan=premium
        churn=no; [ $((i % 4)) -eq 0 ] && churn=yes
        if [ $i -eq 17 ]; then note='"called, twice
about ""price"""'; else note=fine; fi
        echo "c$i,$plan,$((i % 50 + 1)),$((i % 5)),$note,$churn"
        i=$((i + 1))
    done
} > "$T/customers.csv"

cat > "$T/fit.lua" <<LUA
local cl = require "churnlab"
local df = assert(cl.read_csv("$T/customers.csv"))
local p = cl.prep.pipeline{target = "churn", positive = "yes", drop = {"customer", "note"},
                           encode = "onehot", scale = "minmax"}
p:fit(df)
local X, y = p:transform(df)
local m = cl.mlp{epochs = 3, seed = 1}
m:fit(X, y)
assert(m:save("$T/m.clm", {pipeline = p}))
local m2 = cl.mlp{epochs = 1, seed = 1}
m2:fit(X, y)
assert(m2:save("$T/nopipe.clm"))
LUA
"$CL" "$T/fit.lua" >"$T/log" 2>&1 || cat "$T/log"
check "model with pipeline saved" "[ -f '$T/m.clm' ]"

"$CL" scripts/score.lua "$T/m.clm" "$T/customers.csv" "$T/scores.csv" --id customer --chunk 33 >"$T/out" 2>&1
rc=$?
check "score exits 0" "[ $rc -eq 0 ]" || cat "$T/out"
check "one row per customer plus header" "[ \$(wc -l < '$T/scores.csv') -eq 201 ]"
check "header" "head -1 '$T/scores.csv' | grep -qx 'customer,churn_probability,risk_decile'"
check "the multi-line record kept its id" "grep -q '^c17,' '$T/scores.csv' && grep -q '^c18,' '$T/scores.csv'"
check "deciles are balanced (20 each)" "[ \$(awk -F, 'NR>1{c[\$3]++} END{for(k in c) if (c[k] < 18 || c[k] > 22) bad=1; print bad+0}' '$T/scores.csv') -eq 0 ]"
check "decile 1 is the riskiest" "awk -F, 'NR>1{s[\$3]+=\$2;c[\$3]++} END{exit !(s[1]/c[1] >= s[10]/c[10])}' '$T/scores.csv'"
check "no temporary files left" "[ \$(ls '$T' | grep -c tmp) -eq 0 ]"

# The same customers scored in chunks of 33 and in one chunk: identical output (types are
# pinned across chunks). "tickets" holds zero-padded counts ("03"), numeric-looking in the
# first 40 rows, with text later: a chunk that re-infers types reads "03" as the number 3,
# which is none of the labels the pipeline one-hot encodes.
awk -F, 'BEGIN{OFS=","} NR>1 && NF==6 {$4="0"$4} NR>41 && $4=="03" {$4="three"} {print}' \
    "$T/customers.csv" >"$T/mixed.csv"
cat > "$T/fit2.lua" <<LUA
local cl = require "churnlab"
local df = assert(cl.read_csv("$T/mixed.csv", {warn = false}))
assert(df:types().tickets == "cat")
local p = cl.prep.pipeline{target = "churn", positive = "yes", drop = {"customer", "note"},
                           encode = "onehot", scale = "minmax"}
p:fit(df)
local X, y = p:transform(df)
local m = cl.logreg{}
m:fit(X, y)
assert(m:save("$T/m2.clm", {pipeline = p}))
LUA
"$CL" "$T/fit2.lua" >"$T/log2" 2>&1 || cat "$T/log2"
"$CL" scripts/score.lua "$T/m2.clm" "$T/mixed.csv" "$T/c33.csv" --id customer --chunk 33 >"$T/o33" 2>&1
rc1=$?
"$CL" scripts/score.lua "$T/m2.clm" "$T/mixed.csv" "$T/c1k.csv" --id customer --chunk 1000 >"$T/o1k" 2>&1
rc2=$?
check "scores do not depend on --chunk" "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && cmp -s '$T/c33.csv' '$T/c1k.csv'" || { cat "$T/o33" "$T/o1k"; diff "$T/c33.csv" "$T/c1k.csv" | head -5; }

"$CL" scripts/score.lua "$T/nopipe.clm" "$T/customers.csv" "$T/s2.csv" >"$T/err" 2>&1
rc=$?
check "a model without a pipeline is refused" "[ $rc -ne 0 ] && grep -q 'no preprocessing pipeline' '$T/err' && [ ! -f '$T/s2.csv' ]"
"$CL" scripts/score.lua "$T/m.clm" "$T/missing.csv" "$T/s3.csv" >"$T/err" 2>&1
rc=$?
check "a missing input names the file" "[ $rc -ne 0 ] && grep -q 'missing.csv' '$T/err'"

# a corrupted model (a flipped byte: the checksum refuses it) and a file that is no model at
# all: one clean line naming the file, no stack trace, no output
size=$(wc -c <"$T/m.clm")
cp "$T/m.clm" "$T/bad.clm"
printf 'X' | dd of="$T/bad.clm" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$CL" scripts/score.lua "$T/bad.clm" "$T/customers.csv" "$T/s4.csv" >"$T/err" 2>&1
rc=$?
check "a corrupted model: one line naming the file, no traceback" "[ $rc -eq 1 ] && [ \$(wc -l < '$T/err') -eq 1 ] && grep -q \"^score: .*'$T/bad.clm'\" '$T/err' && ! grep -q traceback '$T/err' && [ ! -f '$T/s4.csv' ]" || cat "$T/err"
"$CL" scripts/score.lua "$T/customers.csv" "$T/customers.csv" "$T/s5.csv" >"$T/err" 2>&1
rc=$?
check "not a model file: one line naming it" "[ $rc -eq 1 ] && [ \$(wc -l < '$T/err') -eq 1 ] && grep -q 'customers.csv.* is not a churnlab model file' '$T/err'" || cat "$T/err"
"$CL" scripts/score.lua "$T/nothere.clm" "$T/customers.csv" "$T/s6.csv" >"$T/err" 2>&1
rc=$?
check "a missing model: one line naming it" "[ $rc -eq 1 ] && [ \$(wc -l < '$T/err') -eq 1 ] && grep -q \"cannot open '$T/nothere.clm': No such file\" '$T/err'" || cat "$T/err"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
