#!/bin/sh
# AUC of churnlab's gbdt and XGBoost on the categorical case of scripts/bench/trees.lua over
# several draws of the data and sizes (issue 21: one draw's 5,000 test rows cannot tell a
# 0.005 AUC gap from noise). Prints one line per (scale, seed) and the means per scale.
#   sh scripts/bench/trees_cat_seeds.sh [test|val]
# test (default): train on the draw, score its test set (what trees.lua reports);
# val: score the 20,000 rows after the training rows instead (a validation split: choose
# defaults with this, not with the test sets). Environment: CHURNLAB (default
# build/release/churnlab), SCALES (default "0.1 0.25"), SEEDS (default five from the bench's
# 20261123; for val use others, e.g. "7001 7002 7003 7004 7005"), TREES_BENCH_THREADS.
set -e
mode=${1:-test}
exe=${CHURNLAB:-build/release/churnlab}
scales=${SCALES:-0.1 0.25}
seeds=${SEEDS:-20261123 20261133 20261143 20261153 20261163}
case $mode in
test) v=0 ;;
val) v=1 ;;
*) echo "usage: trees_cat_seeds.sh [test|val]" >&2; exit 2 ;;
esac
for sc in $scales; do
  for s in $seeds; do
    out=$(TREES_BENCH_VALIDATE=$v TREES_BENCH_SEED=$s TREES_BENCH_SCALE=$sc \
      TREES_BENCH_ONLY=cat-gbdt-churnlab,cat-gbdt-xgboost "$exe" scripts/bench/trees.lua)
    c=$(echo "$out" | sed -n 's/.*impl=churnlab metric=[a-z]*_auc value=\([0-9.]*\).*/\1/p')
    x=$(echo "$out" | sed -n 's/.*impl=xgboost metric=[a-z]*_auc value=\([0-9.]*\).*/\1/p')
    if [ -z "$c" ] || [ -z "$x" ]; then
      echo "$out" >&2
      echo "trees_cat_seeds: no AUC from scale $sc seed $s" >&2
      exit 1
    fi
    echo "cat-seeds mode=$mode scale=$sc seed=$s churnlab=$c xgboost=$x diff=$(echo "$c $x" | awk '{printf "%+.5f", $1 - $2}')"
  done
done | awk '{print; split($3, a, "="); split($5, c, "="); split($6, x, "="); n[a[2]]++;
  sc[a[2]] += c[2]; sx[a[2]] += x[2]; if (c[2] >= x[2]) w[a[2]]++ }
  END { for (k in n) printf "cat-seeds mode=%s scale=%s seeds=%d churnlab_mean=%.5f xgboost_mean=%.5f diff=%+.5f churnlab_at_least_xgboost=%d/%d\n",
    "'"$mode"'", k, n[k], sc[k] / n[k], sx[k] / n[k], (sc[k] - sx[k]) / n[k], w[k], n[k] }'
