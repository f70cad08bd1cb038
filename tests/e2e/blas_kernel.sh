#!/bin/sh
# scripts/blas-kernel.sh (used by .ci/run for its second release run): names the kernel OpenBLAS
# picks, honours OPENBLAS_CORETYPE, and --other names a kernel of another family that this CPU
# runs. Skipped where OpenBLAS offers no second family (not x86-64).
cd "$(dirname "$0")/../.." || exit 2
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
family() {
    case $(echo "$1" | tr 'A-Z' 'a-z') in
        skylakex | cooperlake | sapphirerapids) echo avx512 ;;
        haswell | zen) echo avx2 ;;
        *) echo "$1" ;;
    esac
}
cur=$(sh scripts/blas-kernel.sh 2>&1)
check "names the current kernel" '[ -n "$cur" ] && ! echo "$cur" | grep -q " "'
if ! other=$(sh scripts/blas-kernel.sh --other 2>/dev/null); then
    echo "skip --other (no second kernel family here: $cur)"
    echo "$pass passed, $fail failed, 1 skipped"
    [ $fail -eq 0 ]
    exit
fi
check "--other is another family ($cur -> $other)" '[ "$(family "$other")" != "$(family "$cur")" ]'
check "OPENBLAS_CORETYPE=$other is honoured" '[ "$(OPENBLAS_CORETYPE=$other sh scripts/blas-kernel.sh)" = "$other" ]'
back=$(OPENBLAS_CORETYPE=$other sh scripts/blas-kernel.sh --other 2>/dev/null)
check "--other from $other is yet another family ($back)" '[ -n "$back" ] && [ "$(family "$back")" != "$(family "$other")" ]'
# a kernel the CPU cannot run is refused with a message, not a crash of the caller
if ! grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    OPENBLAS_CORETYPE=SkylakeX sh scripts/blas-kernel.sh >/dev/null 2>"${TMPDIR:-/tmp}/blas_kernel.$$"
    rc=$?
    check "a kernel the CPU lacks (SkylakeX) fails, saying so" '[ $rc -eq 1 ] && grep -q "OPENBLAS_CORETYPE=SkylakeX" "${TMPDIR:-/tmp}/blas_kernel.$$"'
    rm -f "${TMPDIR:-/tmp}/blas_kernel.$$"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
