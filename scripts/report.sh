#!/bin/sh
# The main job: generates the default data set if data/synth is missing, runs every
# notebooks/NN_*.lua in order (each writes its report under reports/), then writes
# reports/index.html. Any failing step stops the job with a non-zero exit and says which one.
#
#   scripts/report.sh                 from a checkout (`make report` builds first): works in
#                                     the checkout itself
#   churnlab-report [DIR [NN ...]]    installed (`make install`): works in DIR (default: the
#                                     current directory), creating data/synth, models/ and
#                                     reports/ there; NN ... runs only those notebooks (01 03)
#
# CHURNLAB=path overrides the executable; CHURNLAB_SHARE the folder holding notebooks/ and
# scripts/ (set by `make install`; in a checkout, the checkout).
SHARE=${CHURNLAB_SHARE:-@SHARE@}
case $SHARE in
    @*) # not installed: the checkout this script lives in is both the share and the work dir
        SHARE=$(cd "$(dirname "$0")/.." && pwd) || exit 2
        WORK=$SHARE
        CL=${CHURNLAB:-$SHARE/churnlab} ;;
    *)
        WORK=${1:-.}
        [ $# -gt 0 ] && shift
        CL=${CHURNLAB:-$(dirname "$0")/churnlab}
        command -v "$CL" >/dev/null 2>&1 || CL=churnlab ;;
esac
if ! command -v "$CL" >/dev/null 2>&1; then
    echo "report: $CL is not built; run make first" >&2
    exit 2
fi
if [ ! -d "$SHARE/notebooks" ]; then
    echo "report: no notebooks under '$SHARE' (CHURNLAB_SHARE)" >&2
    exit 2
fi
mkdir -p "$WORK" && cd "$WORK" || { echo "report: cannot work in '$WORK'" >&2; exit 1; }

if [ ! -f data/synth/README.md ]; then
    echo "report: data/synth is missing: generating it"
    "$CL" "$SHARE/scripts/gen_data.lua" data/synth ||
        { echo "report: FAILED generating data/synth" >&2; exit 1; }
fi

mkdir -p reports || exit 1
job_start=$(date +%s)
n=0
for nb in "$SHARE"/notebooks/[0-9][0-9]_*.lua; do
    [ -f "$nb" ] || continue
    if [ $# -gt 0 ]; then # only the notebooks asked for
        want=0
        for k in "$@"; do case $(basename "$nb") in "$k"_*) want=1 ;; esac; done
        [ $want = 1 ] || continue
    fi
    n=$((n + 1))
    echo "== notebooks/$(basename "$nb")"
    start=$(date +%s)
    "$CL" "$nb"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "report: FAILED: notebooks/$(basename "$nb") exited with status $rc (see the error above)" >&2
        exit 1
    fi
    echo "report: $(basename "$nb") done in $(($(date +%s) - start)) s"
done
[ "$n" -gt 0 ] || echo "report: no notebooks/NN_*.lua found"

"$CL" -e '
local cl = require "churnlab"
cl.report.index("reports/")
print("report: wrote reports/index.html")' || { echo "report: FAILED writing reports/index.html" >&2; exit 1; }
echo "report: $n notebook(s) in $(($(date +%s) - job_start)) s"
