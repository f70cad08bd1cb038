#!/usr/bin/env python3
"""Development mock of `churnlab serve` (python3 stdlib only).

Serves web/ at / and /assets/<name>, Chart.js at /assets/chart.js (from the Debian package
libjs-chart.js) and fake API responses that follow /work/wt/_notes/SERVE_API.md (v1): a small
simulated world whose risks drift every second, pushed over /api/stream as server-sent events.
Not an oracle of anything: it exists so the dashboard can be developed and tested in a browser
without the C server.

    tests/browser/serve_mock.py [--port 0] [--no-sse] [--no-calibration] [--no-experiment]
                                [--tick 1.0] [--seed 7]

Prints "listening http://127.0.0.1:PORT/" on stdout once it accepts connections (port 0 picks a
free port). Binds 127.0.0.1 only.
  --no-sse          /api/stream answers 404, so the page must fall back to polling /api/monitor
  --no-calibration  calibration stays null (the page must say when it settles)
  --no-experiment   experiment stays null (the page must say it is not running)
  --stream-max-s S  close every /api/stream connection after S seconds (the page must reconnect)
"""
import argparse
import json
import math
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "web")
CHARTJS = "/usr/share/javascript/chart.js/chart.min.js"
SNAPSHOT_DAY = 180

PLANS = [("basic", 7.99), ("standard", 12.99), ("premium", 17.99)]
FEATURES = [  # (feature, label, unit formatter for reasons)
    ("minutes_30d", "Minutes watched, last 30 days", lambda v: "%d" % v),
    ("payment_failures_30d", "Payment failures, last 30 days", lambda v: "%d" % v),
    ("days_since_last_watch", "Days since last watch", lambda v: "%d days" % v),
    ("support_tickets_90d", "Support tickets, last 90 days", lambda v: "%d" % v),
    ("completion_rate", "Average completion of started titles", lambda v: "%d%%" % round(100 * v)),
    ("tenure_days", "Tenure", lambda v: "%d days" % v),
    ("price", "Monthly price", lambda v: "$%.2f" % v),
]
GENRES = ["drama", "comedy", "documentary", "thriller", "animation", "sci-fi", "romance"]
ACTIONS = [("none", "Do nothing", 0.0), ("email", "Personal e-mail with recommendations", 0.1),
           ("discount", "20% discount for 3 months", 7.8), ("call", "Call from the retention team", 4.0)]


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


class World:
    """A few thousand customers whose logit risk takes a small random walk each tick."""

    def __init__(self, seed, n=9200, calibration=True, experiment=True):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.calibration_on = calibration
        self.experiment_on = experiment
        self.t0 = time.time()
        self.version = 0
        self.day = SNAPSHOT_DAY
        self.events = 250000
        self.eps = 0.0
        self.cust = {}
        ids = self.rng.sample(range(1, 60000), n)
        for cid in sorted(ids):
            plan, price = self.rng.choice(PLANS)
            self.cust[cid] = {
                "id": cid, "plan": plan, "price": price, "active": True,
                "tenure_days": self.rng.randint(5, 900),
                "logit": self.rng.gauss(-2.9, 1.1),
                "history": [],
            }
        self.prev_risk = {}
        self.trend = []
        self.psi = {f[0]: self.rng.uniform(0.01, 0.08) for f in FEATURES}
        self.psi["days_since_last_watch"] = 0.14
        self.psi["payment_failures_30d"] = 0.27
        self.monitor = None
        self.recompute()

    def risk(self, c):
        return sigmoid(c["logit"])

    def tick(self):
        # The only writer is this thread: compute without the lock (readers may see a customer
        # mid-update, harmless here), publish the new monitor under it.
        if True:
            for c in self.cust.values():
                if c["active"]:
                    c["logit"] += self.rng.gauss(0.004, 0.06)
                    if self.rng.random() < 0.01:  # a burst: a payment failure or a binge
                        c["logit"] += self.rng.choice((0.9, -0.7))
            if self.version % 3 == 2:
                self.day += 1
                for c in self.cust.values():  # a few customers leave each day
                    if c["active"] and self.rng.random() < self.risk(c) * 0.02:
                        c["active"] = False
            n_new = self.rng.randint(600, 1000)
            self.events += n_new
            self.eps = n_new / ARGS.tick
            for k in self.psi:
                self.psi[k] = max(0.0, self.psi[k] + self.rng.gauss(0, 0.004))
            self.recompute()
        with self.cond:
            self.cond.notify_all()

    def recompute(self):
        self.version += 1
        active = [c for c in self.cust.values() if c["active"]]
        risks = {c["id"]: self.risk(c) for c in active}
        for c in active:
            h = c["history"]
            if not h or h[-1]["day"] != self.day:
                h.append({"day": self.day, "risk": round(risks[c["id"]], 4)})
            else:
                h[-1]["risk"] = round(risks[c["id"]], 4)
        vals = sorted(risks.values())
        n = len(vals)
        threshold = 0.3
        exp_churn = sum(vals)
        rar = sum(risks[c["id"]] * c["price"] for c in active)
        counts = [0] * 20
        for v in vals:
            counts[min(19, int(v * 20))] += 1
        now = time.time()
        self.trend.append({"day": self.day, "t": round(now, 3), "mean_risk": round(exp_churn / n, 5),
                           "expected_churners": round(exp_churn, 2), "revenue_at_risk": round(rar, 2),
                           "p50": round(vals[n // 2], 4), "p90": round(vals[int(n * 0.9)], 4),
                           "active": n})
        del self.trend[:-240]
        movers = []
        for cid, r in risks.items():
            p = self.prev_risk.get(cid)
            if p is not None and abs(r - p) > 1e-9:
                movers.append((abs(r - p), cid, r, p))
        movers.sort(reverse=True)
        top = sorted(active, key=lambda c: -risks[c["id"]])[:200]
        mon = {
            "version": self.version,
            "generated_at": round(now, 3),
            "day": self.day,
            "events": self.events,
            "events_per_s": round(self.eps, 1),
            "currency": "USD",
            "model": {"path": "models/best.clm", "kind": "gbdt", "version": 1, "loaded_at": round(self.t0, 3)},
            "kpi": {"active": n, "expected_churners": round(exp_churn, 2), "revenue_at_risk": round(rar, 2),
                    "mean_risk": round(exp_churn / n, 5), "high_risk": sum(v >= threshold for v in vals),
                    "threshold": threshold},
            "risk_hist": {"edges": [round(i * 0.05, 2) for i in range(21)], "counts": counts},
            "trend": list(self.trend),
            "movers": [{"id": cid, "risk": round(r, 4), "prev": round(p, 4), "delta": round(r - p, 4),
                        "plan": self.cust[cid]["plan"], "reason": self.main_reason(self.cust[cid], r - p)}
                       for _, cid, r, p in movers[:10]],
            "top": [{"id": c["id"], "risk": round(risks[c["id"]], 4), "plan": c["plan"], "price": c["price"],
                     "tenure_days": c["tenure_days"], "revenue_at_risk": round(risks[c["id"]] * c["price"], 2),
                     "reason": self.reasons(c)[0]["text"]} for c in top],
            "drift": [{"feature": f, "label": lab, "psi": round(self.psi[f], 4),
                       "status": "ok" if self.psi[f] < 0.1 else ("watch" if self.psi[f] < 0.25 else "alert")}
                      for f, lab, _ in FEATURES],
            "calibration": self.calibration(),
            "experiment": self.experiment(),
        }
        self.prev_risk = risks
        body = json.dumps(mon, separators=(",", ":"))
        with self.lock:
            self.monitor = mon
            self.monitor_json = body

    def calibration(self):
        if not self.calibration_on or self.version < 4:
            return None
        bins = []
        for i in range(10):
            p = (i + 0.5) / 10
            bins.append({"predicted": round(p, 3), "observed": round(min(1, max(0, p + 0.04 * math.sin(i + self.version / 7))), 3),
                         "n": int(2000 * math.exp(-i / 2.2)) + 5})
        return {"bins": bins, "settled": sum(b["n"] for b in bins), "horizon_days": 30, "brier": 0.071}

    def experiment(self):
        if not self.experiment_on:
            return None
        k = self.version
        t = 0.21 + 0.004 * math.sin(k / 5)
        c = 0.15 + 0.003 * math.cos(k / 4)
        lift = t - c
        half = 0.02 + 0.2 / (10 + k)
        return {"metric": "watches of recommended titles per customer-day",
                "treatment": {"n": 4500 + 3 * k, "rate": round(t, 4)}, "control": {"n": 4500 + 3 * k, "rate": round(c, 4)},
                "lift": round(lift, 4), "ci": [round(lift - half, 4), round(lift + half, 4)],
                "relative_lift": round(lift / c, 4)}

    def features(self, c):
        r = random.Random(c["id"] * 7919)
        risk = self.risk(c)
        return {
            "minutes_30d": max(0, int(r.gauss(600 * (1 - risk), 120))),
            "payment_failures_30d": int(risk > 0.4) + r.randint(0, 2 if risk > 0.5 else 0),
            "days_since_last_watch": int(r.uniform(0, 40) * risk + 1),
            "support_tickets_90d": r.randint(0, 3),
            "completion_rate": min(1, max(0, r.gauss(0.8 - 0.4 * risk, 0.1))),
            "tenure_days": c["tenure_days"],
            "price": c["price"],
        }

    def reasons(self, c):
        vals = self.features(c)
        r = random.Random(c["id"] * 104729)
        out = []
        for f, lab, fmt in FEATURES:
            contrib = r.gauss(0, 0.5) + (0.6 if f in ("payment_failures_30d", "days_since_last_watch") and self.risk(c) > 0.3 else 0)
            d = "raises" if contrib > 0 else "lowers"
            out.append({"feature": f, "label": lab, "value": round(vals[f], 3),
                        "text": "%s: %s (%s risk)" % (lab, fmt(vals[f]), d),
                        "contrib": round(contrib, 3), "direction": d})
        out.sort(key=lambda x: -abs(x["contrib"]))
        return out[:5]

    def main_reason(self, c, delta):
        """The strongest reason pointing the way the risk moved."""
        rs = self.reasons(c)
        want = "raises" if delta > 0 else "lowers"
        return next((x["text"] for x in rs if x["direction"] == want), rs[0]["text"])

    def customer(self, cid):
        c = self.cust.get(cid)
        if c is None:
            return None
        risk = self.risk(c)
        r = random.Random(cid)
        titles = r.sample(range(1, 2000), 10)
        recs = [{"title": t, "name": "Title %d" % t, "genre": r.choice(GENRES), "score": round(0.9 - 0.05 * i - r.uniform(0, 0.02), 3)}
                for i, t in enumerate(titles)]
        alts = []
        for name, label, cost in ACTIONS:
            eff = {"none": 0, "email": 0.08, "discount": 0.35, "call": 0.25}[name]
            env = risk * eff * c["price"] * 6 - cost
            alts.append({"name": name, "label": label, "cost": cost, "expected_net_value": round(env, 2)})
        alts.sort(key=lambda a: -a["expected_net_value"])
        best = dict(alts[0])
        best["alternatives"] = alts[1:]
        return {"id": cid, "active": c["active"], "risk": round(risk, 4), "plan": c["plan"], "price": c["price"],
                "tenure_days": c["tenure_days"], "history": list(c["history"]), "reasons": self.reasons(c),
                "recommendations": recs, "rec_fallback": "popular" if cid % 11 == 0 else None, "action": best}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "churnlab-mock/1"

    def log_message(self, fmt, *args):
        if ARGS.verbose:
            sys.stderr.write("mock: " + fmt % args + "\n")

    def send(self, status, body, ctype="application/json", extra=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, message):
        self.send(status, json.dumps({"error": {"status": status, "message": message}}))

    def do_GET(self):
        u = urlparse(self.path)
        p = u.path
        if p in ("/", "/index.html"):
            return self.file(os.path.join(WEB, "index.html"), "text/html; charset=utf-8")
        if p.startswith("/assets/"):
            name = p[len("/assets/"):]
            if name == "chart.js":
                return self.file(CHARTJS, "text/javascript; charset=utf-8")
            if name in ("app.js", "app.css") or (name in os.listdir(WEB) and "/" not in name):
                ctype = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}.get(name.rsplit(".", 1)[-1], "application/octet-stream")
                return self.file(os.path.join(WEB, name), ctype + "; charset=utf-8")
            return self.error(404, "no asset " + name)
        if p == "/api/monitor":
            with WORLD.lock:
                body = WORLD.monitor_json
            return self.send(200, body)
        if p == "/api/stream":
            if ARGS.no_sse:
                return self.error(404, "no route " + p)
            return self.stream()
        if p == "/healthz":
            return self.send(200, json.dumps({"status": "ok", "day": WORLD.day}))
        if p == "/api/customers":
            q = parse_qs(u.query)
            limit = int(q.get("limit", ["50"])[0])
            with WORLD.lock:
                rows = [r for r in WORLD.monitor["top"] if q.get("q", [""])[0] in str(r["id"])]
            return self.send(200, json.dumps({"customers": rows[:limit], "total": len(rows)}))
        if p.startswith("/api/customers/"):
            s = p[len("/api/customers/"):]
            try:
                cid = int(s)
            except ValueError:
                return self.error(400, "customer id must be an integer, got %r" % s)
            with WORLD.lock:
                c = WORLD.customer(cid)
            if c is None:
                return self.error(404, "no customer %d" % cid)
            return self.send(200, json.dumps(c))
        return self.error(404, "no route " + p)

    def file(self, path, ctype):
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError as e:
            return self.error(404, str(e))
        self.send(200, body, ctype)

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        last = None
        last_ping = started = time.time()
        try:
            self.wfile.write(b"retry: 1000\n\n")  # reconnect after 1 s when the stream drops
            while not STOP.is_set():
                if ARGS.stream_max_s and time.time() - started > ARGS.stream_max_s:
                    break
                with WORLD.cond:
                    if WORLD.monitor["version"] == last:
                        WORLD.cond.wait(timeout=1.0)
                    v, body = WORLD.monitor["version"], WORLD.monitor_json
                if v != last:
                    self.wfile.write(("event: monitor\ndata: %s\n\n" % body).encode())
                    self.wfile.flush()
                    last = v
                if time.time() - last_ping > 15:
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    last_ping = time.time()
        except (BrokenPipeError, ConnectionResetError):
            pass


def ticker():
    while not STOP.wait(ARGS.tick):
        WORLD.tick()


def main():
    global ARGS, WORLD, STOP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tick", type=float, default=1.0, help="seconds between recomputations")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-sse", action="store_true")
    ap.add_argument("--no-calibration", action="store_true")
    ap.add_argument("--no-experiment", action="store_true")
    ap.add_argument("--stream-max-s", type=float, default=0)
    ap.add_argument("--verbose", action="store_true")
    ARGS = ap.parse_args()
    STOP = threading.Event()
    WORLD = World(ARGS.seed, calibration=not ARGS.no_calibration, experiment=not ARGS.no_experiment)
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    threading.Thread(target=ticker, daemon=True).start()
    print("listening http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        STOP.set()
        srv.server_close()


if __name__ == "__main__":
    main()
