#!/bin/sh
# End-to-end: `make install` into a temporary prefix, then the installed churnlab-report runs
# the main job's first notebook from another directory, on a small world made by the
# installed gen_data.lua (the whole job is `churnlab-report DIR`; one notebook keeps the suite
# short). Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/install.sh
cd "$(dirname "$0")/../.." || exit 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }

# the variant under test (tests/run.sh exports CHURNLAB_SANITIZER for sanitizer builds); an
# enclosing make's flags must not leak into this one
if env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory install \
    PREFIX="$T/inst" SANITIZER="${CHURNLAB_SANITIZER:-}" >"$T/log" 2>&1; then
    ok "make install into a temporary prefix"
else
    bad "make install into a temporary prefix" "$(tail -5 "$T/log")"
fi
for f in bin/churnlab bin/churnlab-report share/churnlab/notebooks/03_models.lua \
    share/churnlab/scripts/score.lua share/churnlab/scripts/gen_data.lua share/churnlab/README.md; do
    [ -e "$T/inst/$f" ] || bad "installed: $f"
done
[ -x "$T/inst/bin/churnlab-report" ] && ok "notebooks, scripts, README and churnlab-report installed"

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "skip churnlab-report run (gnuplot not installed)"
else
    mkdir -p "$T/elsewhere"
    if (cd "$T/elsewhere" &&
        "$T/inst/bin/churnlab" "$T/inst/share/churnlab/scripts/gen_data.lua" work/data/synth \
            customers=2000 titles=200 >"$T/gen.log" 2>&1 &&
        PATH="$T/inst/bin:$PATH" churnlab-report work 01 >"$T/rep.log" 2>&1); then
        ok "the installed churnlab-report runs a notebook from another directory"
    else
        bad "the installed churnlab-report runs a notebook from another directory" \
            "$(tail -5 "$T/gen.log" "$T/rep.log")"
    fi
    for f in reports/01_explore.html reports/index.html; do
        if [ -s "$T/elsewhere/work/$f" ]; then ok "wrote $f in the work directory"
        else bad "wrote $f in the work directory"; fi
    done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
