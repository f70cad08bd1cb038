#!/bin/sh
# Identity of the CSV loader across two binaries (e.g. main's and a branch's): every file is
# read by each at 1 and 2 threads and dumped cell by cell (scripts/bench/csv_dump.lua: the
# bits of every number and date, every label and the dictionary order, or the error
# message); the dumps must be the same bytes. Files: the arguments, or by default the fuzz
# seed corpus (without its flags byte), the CSV fixtures under tests/data, the synthetic
# data and the bench file.
#   sh scripts/bench/csv_same.sh OLD_BINARY NEW_BINARY [FILE...]
set -eu
cd "$(dirname "$0")/../.."
old="$1"
new="$2"
shift 2
tmp=$(mktemp -d /tmp/churnlab-csv-same-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ $# -eq 0 ]; then
    # a fuzz seed's first byte is fuzz_csv's option flags: the CSV is the rest
    for f in tests/data/fuzz-csv/*; do
        tail -c +2 "$f" >"$tmp/seed-$(basename "$f")"
    done
    set -- "$tmp"/seed-* tests/data/*.csv data/synth/*.csv
    for f in build/bench-data/csv_mixed_*.csv; do [ -f "$f" ] && set -- "$@" "$f"; done
fi
n=0
bad=0
for f in "$@"; do
    for th in 1 2; do
        # a dump that fails is a failure of the check, not a value: two failures are not "the
        # same frame" (the date columns' dumps failed in both binaries until that was fixed)
        crashed=0
        "$old" scripts/bench/csv_dump.lua "$f" "$tmp/a" "$th" 2>"$tmp/ea" || crashed=1
        "$new" scripts/bench/csv_dump.lua "$f" "$tmp/b" "$th" 2>"$tmp/eb" || crashed=1
        n=$((n + 1))
        if [ "$crashed" -ne 0 ]; then
            echo "csv_same: DUMP FAILED: $f at $th threads: $(cat "$tmp/ea" "$tmp/eb" | head -1)"
            bad=$((bad + 1))
        elif ! cmp -s "$tmp/a" "$tmp/b"; then
            echo "csv_same: DIFFERENT: $f at $th threads"
            bad=$((bad + 1))
        fi
    done
done
if [ "$bad" -eq 0 ]; then
    echo "check suite=csv case=same_frames reads=$n differences=0 result=pass"
else
    echo "check suite=csv case=same_frames reads=$n differences=$bad result=FAIL"
    exit 1
fi
