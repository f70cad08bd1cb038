#!/bin/sh
# make test-browser: builds the demo report (scripts/report_demo.lua) and opens it in headless
# Chromium: one screenshot of the whole page at laptop width and one at phone width, then one
# per figure (the page with everything but that figure's drawing hidden by an added style
# rule; a figure that failed to draw leaves a white page). Every screenshot must not be blank:
# enough non-white pixels and distinct colours (checked by /usr/bin/python3 reading the PNG
# with zlib, no imaging library needed). A control page with the drawing hidden must fail.
# Then the same checks on the retention dashboard (reports/07_dashboard.html, or $DASHBOARD)
# when it exists (`make report` writes it), plus one screenshot per table; skipped with a
# reason when it is absent. Skips (exit 0, saying why) when Chromium or python3 are absent; the
# demo part alone is skipped when the Telco data are absent.
#   tests/browser/run.sh [build/<variant>]
B=${1:-build/release}
cd "$(dirname "$0")/../.." || exit 2
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PY=/usr/bin/python3
DATA=../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv
DASHBOARD=${DASHBOARD:-reports/07_dashboard.html}

skip() { echo "skip test-browser ($1)"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ -x "$CHROMIUM" ] || skip "Chromium not installed: apt-get install chromium"
[ -x "$PY" ] || skip "python3 not installed"
[ -f "$DATA" ] || [ -f "$DASHBOARD" ] || skip "neither the Telco data ($DATA) nor $DASHBOARD found"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot not installed: apt-get install gnuplot-nox"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

shot() { # page.html out.png WxH
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$work/profile-$$-$(basename "$2" .png)" \
        --screenshot="$2" --window-size="$3" "file://$1" >"$work/chromium.log" 2>&1
}

# check.py png min_fraction min_colours: non-white fraction and distinct colours
cat >"$work/check.py" <<'PY'
import struct, sys, zlib

def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev, p = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows

path, min_frac, min_col = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
w, h, bpp, rows = read_png(path)
colours, ink = set(), 0
for r in rows:
    for i in range(0, len(r), bpp):
        px = r[i:i + 3]
        colours.add(px)
        if px[0] < 235 or px[1] < 235 or px[2] < 235:
            ink += 1
frac = ink / float(w * h)
print("%s: %dx%d, %.1f%% non-white, %d colours" % (path.split("/")[-1], w, h, 100 * frac, len(colours)))
sys.exit(0 if frac >= min_frac and len(colours) >= min_col else 1)
PY

check() { # name png min_fraction min_colours
    if [ ! -s "$2" ]; then cat "$work/chromium.log"; bad "$1: no screenshot"; return; fi
    if "$PY" "$work/check.py" "$2" "$3" "$4"; then ok "$1"; else bad "$1: blank or nearly blank"; fi
}

check_page() { # html tag min_figures
    html=$1 tag=$2 minfig=$3
    shot "$html" "$work/$tag-laptop.png" 1280,2400
    check "$tag: whole page, laptop width" "$work/$tag-laptop.png" 0.05 64
    shot "$html" "$work/$tag-phone.png" 390,2400
    check "$tag: whole page, phone width" "$work/$tag-phone.png" 0.05 64
    f=
    figs=$(sed -n 's/^<figure id="\([A-Za-z0-9_.-]*\)">$/\1/p' "$html")
    nfig=0
    for f in $figs; do
        nfig=$((nfig + 1))
        page="$work/reports/only-$tag-$f.html"
        sed "s|</head>|<style>main>*:not(#$f),figcaption{display:none!important}</style></head>|" "$html" >"$page"
        shot "$page" "$work/$tag-$f.png" 1000,800
        check "$tag: figure $f is visible" "$work/$tag-$f.png" 0.005 16
    done
    # control: the same check on a page whose figure is hidden must say blank
    if [ -n "$f" ]; then
        sed "s|</head>|<style>main>*:not(#$f),figcaption,svg{display:none!important}</style></head>|" \
            "$html" >"$work/reports/control-$tag.html"
        shot "$work/reports/control-$tag.html" "$work/control-$tag.png" 1000,800
        if [ -s "$work/control-$tag.png" ] && ! "$PY" "$work/check.py" "$work/control-$tag.png" 0.005 16; then
            ok "$tag: a hidden figure is detected as blank (control)"
        else
            bad "$tag: the blank check cannot tell a hidden figure"
        fi
    fi
    if [ "$nfig" -ge "$minfig" ]; then ok "$tag: the page has $nfig figures"; else bad "$tag: the page has $nfig figures (expected >= $minfig)"; fi
    # Nothing in the report asks for the network: no scripts, no external resources.
    if grep -qiE '<script|<link |src="https?:|url\(https?:|@import' "$html"; then
        bad "$tag: page is self-contained (found a script or external resource)"
    else
        ok "$tag: page is self-contained"
    fi
}

if [ -f "$DATA" ]; then
    if "$B/churnlab" scripts/report_demo.lua "$work/reports/demo.html" "$DATA" >"$work/demo.log" 2>&1; then
        ok "scripts/report_demo.lua builds the report"
        check_page "$work/reports/demo.html" demo 3
    else
        cat "$work/demo.log"
        bad "scripts/report_demo.lua builds the report"
    fi
else
    skipped=$((skipped + 1)); echo "skip demo report (Telco data not found at $DATA)"
fi

# The retention dashboard (notebooks/07_dashboard.lua): every figure and every table visible.
if [ -f "$DASHBOARD" ]; then
    dash="$work/reports/dashboard.html"
    cp "$DASHBOARD" "$dash"
    check_page "$dash" dashboard 6
    for section in risk-distribution churn-by-segment strategy-comparison recommendation-effectiveness model-monitoring; do
        if grep -q "<h2 id=\"$section\"" "$dash"; then ok "dashboard: section $section"; else bad "dashboard: section $section missing"; fi
    done
    # number the tables (the report gives them no ids) and screenshot each one alone
    awk '/^<div class="table-wrap">/ { n++; sub(/<div class="table-wrap">/, "<div class=\"table-wrap\" id=\"tab" n "\">") } { print }' \
        "$dash" >"$work/reports/dash-tables.html"
    ntab=0 t=
    for t in $(sed -n 's/^<div class="table-wrap" id="\(tab[0-9]*\)">.*/\1/p' "$work/reports/dash-tables.html"); do
        ntab=$((ntab + 1))
        sed "s|</head>|<style>main>*:not(#$t){display:none!important}</style></head>|" \
            "$work/reports/dash-tables.html" >"$work/reports/only-$t.html"
        shot "$work/reports/only-$t.html" "$work/$t.png" 1000,600
        check "dashboard: table $t is visible" "$work/$t.png" 0.005 4
    done
    # control: a page with that table hidden must say blank
    if [ -n "$t" ]; then
        sed "s|</head>|<style>main>*:not(#$t),table{display:none!important}</style></head>|" \
            "$work/reports/dash-tables.html" >"$work/reports/control-table.html"
        shot "$work/reports/control-table.html" "$work/control-table.png" 1000,600
        if [ -s "$work/control-table.png" ] && ! "$PY" "$work/check.py" "$work/control-table.png" 0.005 4; then
            ok "dashboard: a hidden table is detected as blank (control)"
        else
            bad "dashboard: the blank check cannot tell a hidden table"
        fi
    fi
    if [ "$ntab" -ge 5 ]; then ok "dashboard: $ntab tables"; else bad "dashboard: $ntab tables (expected >= 5)"; fi
else
    skipped=$((skipped + 1)); echo "skip dashboard ($DASHBOARD not found: make report writes it)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
