#!/bin/sh
# CI-sized fuzzing: builds every tests/fuzz/fuzz_*.c target (clang, libFuzzer + ASan + UBSan)
# and runs each for FUZZ_SECONDS (default 60) from its seed corpus under tests/data/fuzz-*/.
# Seven targets (csv, loaders, modelio, models, modelsem, serve, xgb: every tests/fuzz/fuzz_*.c)
# x 60 s = 7 minutes, plus one instrumented build of core/*/*.c shared by all targets (about a
# minute on 2 cores).
# Fails when a target finds a crash, leak or sanitizer error (reproducer in
# tests/fuzz/corpus-work/<name>/crash-*). A longer run: make fuzz FUZZ_SECONDS=600.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang not found; install clang (scripts/install-deps.sh) to run the fuzz targets"
    exit 1
fi
make -j2 fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
