#!/bin/sh
# Which OpenBLAS kernel this machine runs, and another one it can run.
#   sh scripts/blas-kernel.sh           the kernel OpenBLAS picks here (honours OPENBLAS_CORETYPE)
#   sh scripts/blas-kernel.sh --other   a kernel of another family that this CPU can execute
#   OPENBLAS_CORETYPE=$(sh scripts/blas-kernel.sh --other) make test
# Float results may differ between kernel families (DESIGN.md: across machines results agree to
# rounding), so CI runs the suite under two of them (.ci/run); a test that compares a BLAS result
# bit for bit with a file or a constant fails under one of the two.
#
# Families are what matter, not names: Zen runs the Haswell kernels (same rounding), Cooperlake
# and SapphireRapids extend SkylakeX. A forced kernel is not checked against the CPU by OpenBLAS
# (SkylakeX on an AVX2-only CPU dies of SIGILL), so a candidate must have its instruction set in
# /proc/cpuinfo and must also run a small sgemm in a child process and report its own name.
# SkylakeX comes first: on an AVX-512 CPU whose default is an AVX2 kernel (Zen 4/5 under
# OpenBLAS 0.3.21), the AVX-512 family is the one most likely to round differently.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
[ "$CC" = cc ] && CC=gcc
ARCH=$($CC -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLAS_DIR=/usr/lib/$ARCH/openblas-openmp # the library the Makefile links
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/probe.c" <<'EOF'
#include <stdio.h>
char *openblas_get_corename(void);
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int,
                 float, float *, int);
int main(void)
{
    static float a[96 * 96], c[96 * 96];
    for (int i = 0; i < 96 * 96; i++)
        a[i] = (float)(i % 7) - 3;
    cblas_sgemm(101, 111, 111, 96, 96, 96, 1, a, 96, a, 96, 0, c, 96); /* row-major, no trans */
    puts(openblas_get_corename());
    return c[5] != c[5];
}
EOF
if ! $CC -o "$T/probe" "$T/probe.c" -L"$BLAS_DIR" -Wl,-rpath,"$BLAS_DIR" -lopenblas 2>"$T/err"; then
    echo "blas-kernel.sh: cannot build the OpenBLAS probe with $CC:" >&2
    cat "$T/err" >&2
    exit 2
fi

family() {
    case $(echo "$1" | tr 'A-Z' 'a-z') in
        skylakex | cooperlake | sapphirerapids) echo avx512 ;;
        haswell | zen) echo avx2 ;;
        sandybridge) echo avx ;;
        *) echo "$1" ;;
    esac
}

if ! current=$("$T/probe" 2>/dev/null); then
    echo "blas-kernel.sh: OpenBLAS fails on this CPU with OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" \
         "(a kernel for an instruction set the CPU lacks?)" >&2
    exit 1
fi
if [ "${1:-}" != --other ]; then
    echo "$current"
    exit 0
fi

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
for k in SkylakeX Haswell Sandybridge Nehalem Prescott; do
    case $k in
        SkylakeX) has avx512f && has avx512bw && has avx512dq && has avx512vl || continue ;;
        Haswell) has avx2 && has fma || continue ;;
        Sandybridge) has avx || continue ;;
        Nehalem) has sse4_2 || continue ;;
        Prescott) has pni || continue ;; # SSE3
    esac
    [ "$(family "$k")" = "$(family "$current")" ] && continue
    got=$(OPENBLAS_CORETYPE=$k "$T/probe" 2>/dev/null) || continue
    [ "$got" = "$k" ] || continue
    echo "$k"
    exit 0
done
echo "blas-kernel.sh: no other OpenBLAS kernel family runs on this CPU (current: $current)" >&2
exit 1
