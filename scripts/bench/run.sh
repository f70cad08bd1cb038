#!/bin/sh
# make bench: every C benchmark (build/<variant>/bench/*) then every Lua benchmark
# (scripts/bench/*.lua, which run their Python anchors themselves so one run compares both).
# Output: machine-readable lines
#   bench suite=<s> case=<c> impl=<churnlab|pytorch|...> metric=<m> value=<v> unit=<u> [k=v...]
# and the environment first, since ratios only mean something within one run.
B=${1:?usage: scripts/bench/run.sh build/<variant>}
cd "$(dirname "$0")/../.." || exit 2
echo "bench-env host=$(uname -n) nproc=$(nproc) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} CHURNLAB_THREADS=${CHURNLAB_THREADS:-unset} date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
status=0
for b in "$B"/bench/*; do
    [ -x "$b" ] || continue
    echo "== $b"
    "$b" || status=1
done
for s in scripts/bench/*.lua; do
    [ -f "$s" ] || continue
    [ -n "${BENCH_ONLY:-}" ] && case "$s" in *"$BENCH_ONLY"*) ;; *) continue ;; esac
    echo "== $s"
    "$B/churnlab" "$s" || status=1
done
exit $status
