#!/bin/sh
# make report: the main job. Generates the default data set if data/synth is missing, runs
# every notebooks/NN_*.lua in order with ./churnlab (each writes its report under reports/),
# then writes reports/index.html with cl.report.index when the report module is built.
# Any failing step stops the job with a non-zero exit and says which one.
#   scripts/report.sh            (normally via `make report`, which builds first)
# CHURNLAB=path overrides the executable (default ./churnlab).
cd "$(dirname "$0")/.." || exit 2
CL=${CHURNLAB:-./churnlab}
if [ ! -x "$CL" ]; then
    echo "report: $CL is not built; run make first" >&2
    exit 2
fi

if [ ! -f data/synth/README.md ]; then
    echo "report: data/synth is missing: generating it (make data)"
    make --no-print-directory data || { echo "report: FAILED generating data/synth" >&2; exit 1; }
fi

mkdir -p reports || exit 1
job_start=$(date +%s)
n=0
for nb in notebooks/[0-9][0-9]_*.lua; do
    [ -f "$nb" ] || continue
    n=$((n + 1))
    echo "== $nb"
    start=$(date +%s)
    "$CL" "$nb"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "report: FAILED: $nb exited with status $rc (see the error above)" >&2
        exit 1
    fi
    echo "report: $nb done in $(($(date +%s) - start)) s"
done
[ "$n" -gt 0 ] || echo "report: no notebooks/NN_*.lua found"

"$CL" -e '
local cl = require "churnlab"
if type(cl.report) == "table" and type(cl.report.index) == "function" then
  cl.report.index("reports/")
  print("report: wrote reports/index.html")
else
  print("report: the report module is not built yet; no reports/index.html")
end' || { echo "report: FAILED writing reports/index.html" >&2; exit 1; }
echo "report: $n notebook(s) in $(($(date +%s) - job_start)) s"
