#!/bin/sh
# make test-browser: builds the demo report (scripts/report_demo.lua) and opens it in headless
# Chromium: one screenshot of the whole page at laptop width and one at phone width, then one
# per figure (the page with everything but that figure's drawing hidden by an added style
# rule; a figure that failed to draw leaves a white page). Every screenshot must not be blank:
# enough non-white pixels and distinct colours (checked by /usr/bin/python3 reading the PNG
# with zlib, no imaging library needed). A control page with the drawing hidden must fail.
# Skips (exit 0, saying why) when Chromium, python3 or the Telco data are absent.
#   tests/browser/run.sh [build/<variant>]
B=${1:-build/release}
cd "$(dirname "$0")/../.." || exit 2
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PY=/usr/bin/python3
DATA=../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv

skip() { echo "skip test-browser ($1)"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ -x "$CHROMIUM" ] || skip "Chromium not installed: apt-get install chromium"
[ -x "$PY" ] || skip "python3 not installed"
[ -f "$DATA" ] || skip "Telco data not found at $DATA"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot not installed: apt-get install gnuplot-nox"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

if ! "$B/churnlab" scripts/report_demo.lua "$work/reports/demo.html" "$DATA" >"$work/demo.log" 2>&1; then
    cat "$work/demo.log"
    bad "scripts/report_demo.lua builds the report"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "scripts/report_demo.lua builds the report"
html="$work/reports/demo.html"

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

shot "$html" "$work/laptop.png" 1280,2400
check "whole report, laptop width" "$work/laptop.png" 0.05 64
shot "$html" "$work/phone.png" 390,2400
check "whole report, phone width" "$work/phone.png" 0.05 64

figs=$(sed -n 's/^<figure id="\([A-Za-z0-9_.-]*\)">$/\1/p' "$html")
nfig=0
for f in $figs; do
    nfig=$((nfig + 1))
    page="$work/reports/only-$f.html"
    sed "s|</head>|<style>main>*:not(#$f),figcaption{display:none!important}</style></head>|" "$html" >"$page"
    shot "$page" "$work/$f.png" 1000,800
    check "figure $f is visible" "$work/$f.png" 0.005 16
done
# control: the same check on a page whose figure is hidden must say blank
if [ -n "$f" ]; then
    sed "s|</head>|<style>main>*:not(#$f),figcaption,svg{display:none!important}</style></head>|" \
        "$html" >"$work/reports/control.html"
    shot "$work/reports/control.html" "$work/control.png" 1000,800
    if [ -s "$work/control.png" ] && ! "$PY" "$work/check.py" "$work/control.png" 0.005 16; then
        ok "a hidden figure is detected as blank (control)"
    else
        bad "the blank check cannot tell a hidden figure"
    fi
fi
if [ "$nfig" -ge 3 ]; then ok "the report has $nfig figures"; else bad "the report has $nfig figures (expected >= 3)"; fi
# Nothing in the report asks for the network: no scripts, no external resources.
if grep -qiE '<script|<link |src="https?:|url\(https?:|@import' "$html"; then
    bad "report is self-contained (found a script or external resource)"
else
    ok "report is self-contained"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
