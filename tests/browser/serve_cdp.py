#!/usr/bin/env python3
"""Drive headless Chromium over the DevTools protocol (--remote-debugging-pipe, python3 stdlib
only) against a running `churnlab serve` (or tests/browser/serve_mock.py) and check the dashboard.

    serve_cdp.py CHROMIUM URL OUTDIR

Prints one "ok   ..." / "FAIL ..." line per check, the measured timings as "measure ..." lines,
and "N passed, M failed" last; exit status 1 when a check failed. Only talks to URL (127.0.0.1).
Env: EXPECT_LIVE=polling checks the page fell back to polling (server without /api/stream).
"""
import base64
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urljoin


class CDP:
    def __init__(self, chromium, profile):
        cmd_r, self._cmd_w = os.pipe()      # we write commands, Chromium reads fd 3
        self._out_r, out_w = os.pipe()      # Chromium writes fd 4, we read

        def child():  # in the child before exec: the pipe ends become fds 3 and 4, inheritable
            a, b = os.dup(cmd_r), os.dup(out_w)   # >= 5 may not hold; dup first so 3/4 cannot clobber
            a, b = os.dup2(a, 100), os.dup2(b, 101)
            os.dup2(a, 3)   # dup2 to a new number makes the copy inheritable (even if it was 3)
            os.dup2(b, 4)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                "--disable-quic", "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "--window-size=1400,900", "about:blank"]
        self.log = open(os.path.join(profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, preexec_fn=child, close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        os.close(cmd_r)
        os.close(out_w)
        self.next_id = 0
        self.pending = {}
        self.events = queue.Queue()
        self.listeners = []
        self.lock = threading.Lock()
        threading.Thread(target=self._reader, daemon=True).start()
        self.session = None

    def _reader(self):
        buf = b""
        f = os.fdopen(self._out_r, "rb", buffering=0)
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                if "id" in m:
                    with self.lock:
                        q = self.pending.pop(m["id"], None)
                    if q:
                        q.put(m)
                else:
                    for fn in self.listeners:
                        fn(m)
        with self.lock:
            for q in self.pending.values():
                q.put({"error": {"message": "Chromium closed the pipe"}})

    def send(self, method, params=None, session=True, timeout=30):
        with self.lock:
            self.next_id += 1
            i = self.next_id
            q = queue.Queue()
            self.pending[i] = q
        msg = {"id": i, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        try:
            r = q.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("%s: no answer within %d s" % (method, timeout))
        if "error" in r:
            raise RuntimeError("%s: %s" % (method, r["error"].get("message")))
        return r.get("result", {})

    def eval(self, expr, timeout=30):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %r: %s" % (expr[:60], r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def attach(cdp):
    targets = cdp.send("Target.getTargets", session=False)["targetInfos"]
    page = next(t for t in targets if t["type"] == "page")
    cdp.session = cdp.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, session=False)["sessionId"]


def bench(chromium, url, n):
    """First paint of the dashboard with monitor data: N reloads with the HTTP cache disabled
    after one warm-up navigation. Prints the environment and machine-readable bench lines."""
    import platform
    profile = tempfile.mkdtemp(prefix="serve-bench-")
    cdp = CDP(chromium, profile)
    loads = queue.Queue()
    cdp.listeners.append(lambda m: m.get("method") == "Page.loadEventFired" and loads.put(1))
    rows = []
    try:
        attach(cdp)
        for d in ("Page.enable", "Network.enable"):
            cdp.send(d)
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        ver = cdp.send("Browser.getVersion", session=False).get("product")
        print("env chromium=%s cpus=%d loadavg=%s python=%s url=%s" % (ver, os.cpu_count(), "/".join("%.2f" % x for x in os.getloadavg()), platform.python_version(), url))
        cdp.send("Page.navigate", {"url": url})
        loads.get(timeout=30)
        for i in range(n + 1):
            cdp.send("Page.reload", {"ignoreCache": True})
            loads.get(timeout=30)
            end = time.time() + 15
            v = None
            while time.time() < end:
                v = cdp.eval("""document.body.dataset.firstPaint && [+document.body.dataset.firstData, +document.body.dataset.firstPaint,
                    (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null]""")
                if v:
                    break
                time.sleep(0.05)
            if v is None:
                print("bench error: reload %d rendered no data within 15 s" % i)
                return 1
            if i:  # the first reload only warms the server and the browser
                rows.append(v)
    finally:
        cdp.close()
        subprocess.call(["rm", "-rf", profile])

    def q(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))]
    for name, k in (("dashboard_first_paint_with_data_ms", 1), ("dashboard_data_rendered_ms", 0), ("static_html_fcp_ms", 2)):
        xs = [r[k] for r in rows if r[k] is not None]
        if xs:
            print("bench %s n=%d p50=%.1f p90=%.1f max=%.1f" % (name, len(xs), q(xs, 0.5), q(xs, 0.9), max(xs)))
    p50 = q([r[1] for r in rows], 0.5)
    print("bench dashboard_first_paint_target_ms=1000 p50=%.1f %s" % (p50, "met" if p50 < 1000 else "NOT met"))
    print("env loadavg_after=%s" % "/".join("%.2f" % x for x in os.getloadavg()))
    return 0


def main():
    if sys.argv[1] == "--bench":
        return bench(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 10)
    chromium, url, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    passed = failed = 0

    def ok(name):
        nonlocal passed
        passed += 1
        print("ok   " + name, flush=True)

    def bad(name):
        nonlocal failed
        failed += 1
        print("FAIL " + name, flush=True)

    def check(cond, name):
        ok(name) if cond else bad(name)
        return cond

    def api(path):
        with urllib.request.urlopen(urljoin(url, path), timeout=10) as r:
            return json.load(r)

    try:
        mon = api("/api/monitor")
    except (urllib.error.URLError, OSError, ValueError) as e:
        bad("GET /api/monitor answers JSON (%s)" % e)
        print("%d passed, %d failed" % (passed, failed))
        return 1

    profile = tempfile.mkdtemp(prefix="serve-cdp-")
    cdp = CDP(chromium, profile)
    problems = []          # console errors, exceptions, failed loads
    allow_network_errors = [False]

    def listen(m):
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            problems.append("exception: %s %s" % (d.get("text"), (d.get("exception") or {}).get("description", "")))
        elif meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            problems.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))))
        elif meth == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            expected = e.get("source") == "network" and (allow_network_errors[0] or
                       (os.environ.get("EXPECT_LIVE") == "polling" and e.get("url", "").endswith("/api/stream")))
            if not expected:
                problems.append("log (%s): %s %s" % (e.get("source"), e.get("text"), e.get("url", "")))
        elif meth == "Page.loadEventFired":
            cdp.events.put("load")

    cdp.listeners.append(listen)
    try:
        attach(cdp)
        for d in ("Runtime.enable", "Log.enable", "Page.enable"):
            cdp.send(d)

        def viewport(w, h):
            cdp.send("Emulation.setDeviceMetricsOverride", {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})

        def shot(name, full=False):
            time.sleep(0.4)  # let a frame with the latest data paint
            params = {"format": "png"}
            if full:
                dims = cdp.eval("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
                params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": dims[0], "height": dims[1], "scale": 1})
            data = base64.b64decode(cdp.send("Page.captureScreenshot", params)["data"])
            path = os.path.join(outdir, name + ".png")
            with open(path, "wb") as f:
                f.write(data)
            check(len(data) > 20000, "screenshot %s.png written (%d bytes)" % (name, len(data)))

        def wait_for(expr, timeout):
            end = time.time() + timeout
            while time.time() < end:
                v = cdp.eval(expr)
                if v:
                    return v
                time.sleep(0.1)
            return None

        viewport(1400, 900)
        t0 = time.time()
        cdp.send("Page.navigate", {"url": url})
        try:
            cdp.events.get(timeout=20)
        except queue.Empty:
            bad("the page fires its load event within 20 s")
        v1 = wait_for("document.body && document.body.dataset.version", 10)
        if not check(v1 is not None, "the dashboard renders monitor data (data-version set) within 10 s"):
            raise RuntimeError("no data rendered; stopping")
        print("measure load_to_data_wall_s %.3f" % (time.time() - t0))
        timing = cdp.eval("""(() => { const n = performance.getEntriesByType('navigation')[0] || {};
            const fcp = performance.getEntriesByName('first-contentful-paint')[0];
            return {firstData: +document.body.dataset.firstData, firstPaint: +document.body.dataset.firstPaint,
                    fcp: fcp ? fcp.startTime : null, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()""")
        for k in ("fcp", "dcl", "load", "firstData", "firstPaint"):
            if timing.get(k) is not None:
                print("measure %s_ms %.1f" % (k, timing[k]))
        # The first navigation of a fresh browser also pays for starting its renderer; measure
        # again on reloads with the HTTP cache disabled (every byte fetched again) and check the
        # median of 3 against the 1 s.
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        warm = []
        for _ in range(3):
            cdp.send("Page.reload", {"ignoreCache": True})
            try:
                cdp.events.get(timeout=20)
            except queue.Empty:
                pass
            fp = wait_for("document.body && document.body.dataset.firstPaint && [+document.body.dataset.firstData, +document.body.dataset.firstPaint, (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null]", 10)
            if fp:
                warm.append(fp)
        res = cdp.eval("""(() => { const n = performance.getEntriesByType('navigation')[0];
            const r = performance.getEntriesByType('resource').map(e => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseEnd)]);
            return {doc: n ? [Math.round(n.responseStart), Math.round(n.responseEnd)] : null, res: r}; })()""")
        print("measure last_reload document ttfb/end_ms %s resources [name, start_ms, end_ms] %s" % (res["doc"], res["res"][:8]))
        for i, (fd, fp, fcp) in enumerate(warm):
            print("measure reload%d firstData_ms %.1f firstPaint_ms %.1f fcp_ms %.1f" % (i + 1, fd, fp, fcp or -1))
        med = sorted(w[1] for w in warm)[len(warm) // 2] if warm else None
        if med is not None:
            print("measure first_paint_with_data_median_ms %.1f" % med)
        # a measurement, not a timed check (timed unit tests flake on a loaded machine); the 1 s
        # target is checked by serve_paint_bench.sh, which prints the environment beside it
        check(len(warm) == 3, "first paint with data recorded on 3 reloads (median %s ms, cold %.0f ms)" % (med and round(med), timing.get("firstPaint") or -1))

        def snapshot():
            return cdp.eval("""(() => ({v: document.body.dataset.version, day: document.querySelector('#kpi-day .v').textContent,
                events: document.querySelector('#kpi-events .d').textContent, live: document.body.dataset.live}))()""")
        s1 = snapshot()
        s2 = None
        end = time.time() + 8
        while time.time() < end:
            time.sleep(0.5)
            s2 = snapshot()
            if s2["v"] != s1["v"] and s2["events"] != s1["events"]:
                break
        check(s2 and s2["v"] != s1["v"], "live: data-version changes within 8 s (%s -> %s)" % (s1["v"], s2 and s2["v"]))
        check(s2 and s2["events"] != s1["events"], "live: the events text changes (%r -> %r)" % (s1["events"], s2 and s2["events"]))
        if os.environ.get("EXPECT_RECONNECT"):
            # the server drops the stream every few seconds: the indicator must say so, then
            # come back to live, and the numbers must keep moving
            cdp.eval("""window.__liveSeen = [document.body.dataset.live];
                new MutationObserver(() => { const v = document.body.dataset.live; if (window.__liveSeen[window.__liveSeen.length - 1] !== v) window.__liveSeen.push(v); })
                    .observe(document.body, {attributes: true, attributeFilter: ['data-live']});""")
            seen = wait_for("(() => { const s = window.__liveSeen, i = s.indexOf('reconnecting'); return i >= 0 && s.indexOf('live', i) > i && s; })()", 20)
            check(seen, "a dropped stream shows 'reconnecting', then 'live' again (%s)" % (seen or cdp.eval("window.__liveSeen")))
            va = cdp.eval("document.body.dataset.version")
            vb = wait_for("document.body.dataset.version !== %s && document.body.dataset.version" % json.dumps(va), 10)
            check(vb, "numbers still change after the reconnect (%s -> %s)" % (va, vb))
        want = os.environ.get("EXPECT_LIVE", "live")
        live = wait_for("document.body.dataset.live === %s && document.querySelector('#live-text').textContent" % json.dumps(want), 8)
        check(live, "the connection indicator says %s (%r)" % (want, live))

        # content: every panel drew something, in words
        info = cdp.eval("""(() => { const q = (s) => document.querySelectorAll(s).length, t = (s) => (document.querySelector(s) || {}).textContent || '';
            return {kpis: [...document.querySelectorAll('.kpis .kpi .v')].map(e => e.textContent),
                    rows: q('#top-table tbody tr[data-id]'), movers: q('#movers li'), drift: q('#drift-table tbody tr'),
                    canvases: [...document.querySelectorAll('#view-dashboard canvas')].filter(c => c.width > 0 && c.offsetParent).length,
                    charts: typeof Chart === 'function' ? Object.keys(Chart.instances).length : 0,
                    experiment: t('#experiment'), calib: t('#calib-hint') + t('#calib-empty'), revenue: t('#kpi-revenue .v'),
                    text: document.getElementById('view-dashboard').innerText}; })()""")
        check(all(k not in ("", "–") for k in info["kpis"]) and len(info["kpis"]) == 7, "7 KPI tiles show values %s" % info["kpis"])
        cur_ok = info["revenue"].startswith("$") if mon.get("currency") == "USD" else mon.get("currency", "") in info["revenue"]
        check(cur_ok, "revenue at risk shows the currency (%r)" % info["revenue"])
        ntop = len(mon.get("top", []))
        check(info["rows"] == min(50, ntop), "the table shows the first 50 of the %d riskiest customers (%d rows)" % (ntop, info["rows"]))
        more = cdp.eval("""(() => { let n = 0, b; while ((b = document.querySelector('#top-table button.more')) && n < 10) { b.click(); n++; }
            return document.querySelectorAll('#top-table tbody tr[data-id]').length; })()""")
        check(more == ntop, "'show more' reveals all %d rows (%d)" % (ntop, more))
        check(info["movers"] >= 1, "top movers listed (%d)" % info["movers"])
        check(info["drift"] == len(mon.get("drift", [])), "drift table has one row per input (%d)" % info["drift"])
        check(info["charts"] >= 2 and info["canvases"] >= 2, "charts drawn (%d Chart.js charts, %d visible canvases)" % (info["charts"], info["canvases"]))
        check(("interval" in info["experiment"]) if mon.get("experiment") else ("Not running" in info["experiment"]),
              "experiment panel: lift with interval or 'not running'")
        calib_null = os.environ.get("EXPECT_CALIBRATION") == "null"
        check(("settles" in info["calib"]) if calib_null else ("settled" in info["calib"] or "settles" in info["calib"]),
              "calibration panel: %s (%r)" % ("when it settles" if calib_null else "figures, or when it settles", info["calib"]))
        # the trend's x labels span the axis: the first update's day and the last's are labelled
        # (labels once stopped short of the right end, where the monitor had skipped days); the
        # days are read from the chart's own data (the monitor may have moved on since)
        tk = cdp.eval("""(() => { const ch = typeof Chart === 'function' && Chart.getChart(document.getElementById('chart-trend'));
            if (!ch) return null;
            const shown = ch.scales.x.ticks.map(t => t.label).filter(l => l !== null && l !== undefined && l !== '');
            const days = ch.data.labels.map(l => (String(l).match(/day (-?\\d+)$/) || [])[1]);
            return {shown, days}; })()""")
        tdays = [int(d) for d in (tk or {}).get("days", []) if d is not None]
        check(tk and tdays and tk["shown"] and tk["shown"][0] == "day %d" % tdays[0] and tk["shown"][-1] == "day %d" % tdays[-1]
              and len(tk["shown"]) >= min(3, len(set(tdays))),
              "trend x labels run from the first day to the last (%s for days %s-%s)" % (tk and tk["shown"], tdays[:1], tdays[-1:]))
        # machine names (with "_") must not show; a one-word name ("price") cannot be told from a word
        mon = api("/api/monitor")
        raw = [d["feature"] for d in mon.get("drift", []) if d.get("label") and "_" in d["feature"] and d["feature"] in info["text"]]
        check(not raw, "no raw feature name shown where a label exists %s" % raw)

        # the table sorts by clicking a header (keyboard: the header is a button), filters, searches
        srt = cdp.eval("""(() => { const b = document.querySelector('#top-table th[data-key=risk] button'); b.focus(); b.click();
            const r = [...document.querySelectorAll('#top-table tbody tr[data-id] td:nth-child(3)')].map(td => parseFloat(td.textContent));
            return {sort: document.querySelector('#top-table th[data-key=risk]').getAttribute('aria-sort'), asc: r.every((x, i) => !i || r[i-1] <= x), n: r.length}; })()""")
        check(srt["sort"] == "ascending" and srt["asc"] and srt["n"] > 1, "clicking Risk sorts ascending (%s)" % srt)
        flt = cdp.eval("""(() => { const i = document.querySelector('#f-minrisk'); i.value = '50'; i.dispatchEvent(new Event('input'));
            const r = [...document.querySelectorAll('#top-table tbody tr[data-id] td:nth-child(3)')].map(td => parseFloat(td.textContent));
            const out = {n: r.length, ok: r.every(x => x >= 50)}; i.value = '0'; i.dispatchEvent(new Event('input')); return out; })()""")
        check(flt["ok"], "min-risk 50%% filter keeps only risks >= 50%% (%d rows)" % flt["n"])
        # back to the default order (riskiest first) for the screenshots
        cdp.eval("document.querySelector('#top-table th[data-key=risk] button').click(); document.activeElement.blur(); window.scrollTo(0, 0)")
        viewport(1400, 900)
        shot("main-1400x900")
        shot("main-1400-full", full=True)
        viewport(1280, 800)
        shot("main-1280x800")
        viewport(1400, 900)

        # customer page for a real id
        top = mon.get("top") or []
        if check(bool(top), "/api/monitor has top customers"):
            cid = top[0]["id"]
            cdp.eval("location.hash = '#/customer/%d'" % cid)
            got = wait_for("document.body.dataset.customer === '%d'" % cid, 10)
            check(got, "customer page #/customer/%d renders" % cid)
            cinfo = cdp.eval("""(() => ({visible: !document.getElementById('view-customer').hidden && document.getElementById('view-dashboard').hidden,
                reasons: document.querySelectorAll('.reasons li').length, text: document.getElementById('view-customer').innerText,
                chart: typeof Chart === 'function' && !!Chart.getChart(document.getElementById('chart-chist'))}))()""")
            c = api("/api/customers/%d" % cid)
            check(cinfo["visible"], "the customer view replaces the dashboard")
            check(cinfo["reasons"] == len(c.get("reasons", [])), "reasons listed (%d)" % cinfo["reasons"])
            # the page refreshes the customer as risks move: compare labels, not the whole text
            check(all(r["label"] in cinfo["text"] for r in c.get("reasons", []) if r.get("label")), "reasons shown in words (their labels)")
            # each reason says its direction once (the badge), not also in its text
            ndir = cinfo["text"].count("raises risk") + cinfo["text"].count("lowers risk")
            check(ndir == cinfo["reasons"], "each reason's direction shown once (%d for %d reasons)" % (ndir, cinfo["reasons"]))
            raw = [r["feature"] for r in c.get("reasons", []) if "_" in r["feature"] and r["feature"] in cinfo["text"]]
            check(not raw, "no raw feature names on the customer page %s" % raw)
            check(c.get("action") is None or (c["action"]["label"] in cinfo["text"] and "net value" in cinfo["text"]),
                  "best action and its expected net value shown")
            check(cinfo["chart"] or not c.get("history"), "risk history chart drawn")
            # recommendations are ranked, without the recommender's raw scores ("2215.000")
            rtxt = cdp.eval("""(() => { const h = [...document.querySelectorAll('#h-recs')][0]; const sec = h && h.parentElement;
                return sec ? sec.innerText : ''; })()""")
            check(c.get("recommendations") is None or not c["recommendations"] or
                  ("Score" not in rtxt and not re.search(r"\d\.\d{3}\b", rtxt) and c["recommendations"][0]["name"] in rtxt),
                  "recommended titles ranked, no raw scores (%r)" % rtxt[:80])
            shot("customer-1400x900")
            viewport(1280, 800)
            shot("customer-1280x800")
            viewport(1400, 900)
            cdp.eval("location.hash = '#/'")
            check(wait_for("!document.getElementById('view-dashboard').hidden", 5), "back to the dashboard")

        if problems:
            bad("no console errors, exceptions or failed loads:\n    " + "\n    ".join(problems[:20]))
        else:
            ok("no console errors, exceptions or failed loads")

        # an unknown id: the page says so, nothing thrown (the browser logs the 404 itself)
        allow_network_errors[0] = True
        n0 = len(problems)
        cdp.eval("location.hash = '#/customer/999999999'")
        e404 = wait_for("document.body.dataset.customerError === '404' && document.querySelector('#customer-body').innerText", 10)
        check(e404 and "no customer" in e404, "unknown customer: the page says so (%r)" % e404)
        cdp.eval("location.hash = '#/'")
        s = cdp.eval("""(() => { const i = document.querySelector('#f-search'); i.value = '999999999'; i.dispatchEvent(new Event('input'));
            document.querySelector('#top-filters').requestSubmit(); return true; })()""")
        found = wait_for("(document.querySelector('#top-table tbody').innerText.match(/not found/) || [])[0]", 10)
        check(found, "searching an unknown id says 'not found'")
        check(len(problems) == n0, "no exceptions after the 404s %s" % problems[n0:])
    except Exception as e:  # a broken page or browser: report, do not hide
        bad("browser session: %s" % e)
    finally:
        cdp.close()
        if failed:
            sys.stdout.write("chromium log tail:\n")
            try:
                sys.stdout.write(open(os.path.join(profile, "chromium.log"), errors="replace").read()[-3000:])
            except OSError:
                pass
        subprocess.call(["rm", "-rf", profile])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
