#!/bin/sh
# Runs every libFuzzer target for N seconds (make fuzz [FUZZ_SECONDS=60]).
#   tests/fuzz/run.sh build/fuzz SECONDS
# Target build/fuzz/fuzz_<name> starts from the seed corpus tests/data/fuzz-<name>/ (and, for
# csv, the tests/data/*.csv fixtures) and grows a work corpus in tests/fuzz/corpus-work/<name>/
# (gitignored). Exits non-zero when any target finds a crash, a leak or a sanitizer error;
# the reproducer is left in tests/fuzz/corpus-work/<name>/crash-* by libFuzzer.
D=${1:?usage: tests/fuzz/run.sh build/fuzz SECONDS}
SECS=${2:-60}
cd "$(dirname "$0")/../.." || exit 2
status=0
found=0
for t in "$D"/fuzz_*; do
    [ -x "$t" ] || continue
    found=1
    name=${t##*/fuzz_}
    work=tests/fuzz/corpus-work/$name
    mkdir -p "$work"
    seeds=""
    [ -d "tests/data/fuzz-$name" ] && seeds="tests/data/fuzz-$name"
    if [ "$name" = csv ]; then
        for f in tests/data/*.csv; do [ -f "$f" ] && cp -n "$f" "$work/" ; done
    fi
    # The CSV reader gets inputs up to 1 MB and 20 s per input. Under ASan + UBSan the reader
    # takes 2-4 s on the worst 1 MB inputs we know (100k columns; 25 ms for a 1 MB field);
    # the old reader, quadratic in the column count, took 89 s on the 20k-column seed, so
    # such a path is reported as a timeout. 10 s gave false timeouts on a loaded machine (a
    # 1.7 s input). The old field-length path took only 5 s on a 1 MB field: test_csv's
    # allocation count guards that one. The other targets keep 4 KB.
    limits="-max_len=4096"
    [ "$name" = csv ] && limits="-max_len=1048576 -timeout=20"
    echo "== $t for ${SECS}s (seeds: ${seeds:-none}, corpus: $work, $limits)"
    # -rss_limit_mb keeps a pathological input from taking the machine; one job, one worker.
    if ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 "$t" -max_total_time="$SECS" \
        -rss_limit_mb=1024 $limits -artifact_prefix="$work/" -print_final_stats=1 \
        "$work" $seeds >"$work.log" 2>&1; then
        tail -n 3 "$work.log"
        echo "fuzz $name: clean for ${SECS}s"
    else
        tail -n 40 "$work.log"
        echo "fuzz $name: FAILED (log: $work.log)"
        status=1
    fi
done
[ "$found" = 1 ] || { echo "no fuzz targets in $D"; exit 2; }
exit $status
