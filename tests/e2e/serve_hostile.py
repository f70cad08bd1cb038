#!/usr/bin/env python3
"""Hostile clients against a running `churnlab serve` on 127.0.0.1:PORT (tests/e2e/serve.sh).

Sends N requests drawn from a fixed list of bad shapes (malformed and deeply nested JSON,
wrong types, unknown fields, huge numbers, invalid UTF-8, oversized headers and bodies, path
traversal, odd methods), plus a slow client that never finishes its headers. Every answer
must be an HTTP status with a JSON error for 4xx (or the connection closed by the server for
the oversized cases), and the service must still answer /healthz at the end.
Prints one line per check: "ok ..." or "FAIL ...". Exit status 1 on any failure."""
import http.client, json, random, socket, sys, time

port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rnd = random.Random(7)
fails = []

def req(method, path, body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read(), r.getheader("Content-Type") or ""
    except (ConnectionError, http.client.HTTPException, socket.timeout) as e:
        return None, str(e).encode(), ""
    finally:
        c.close()

auth = {"Authorization": "Bearer " + token}
bodies = [b"{", b"[" * 5000 + b"]" * 5000, b'{"user_id": 1e999, "day": 1, "event": "ticket"}',
          b'{"user_id": 99999999999999999999999, "day": 1, "event": "ticket"}',
          b'{"user_id": "7", "day": 1, "event": "ticket"}', b'{"user_id": 7, "day": 1, "event": "ticket", "x": 1}',
          b'\xff\xfe{"user_id": 7}', b'{"user_id": 7, "day": 1, "event": "\xc3\x28"}', b"null", b"[]",
          b'{"user_id": 7, "day": -2147483648, "event": "watch", "title_id": -5}',
          b'{"user_id": 7, "day": 1, "event": "plan_change", "detail": 5}',
          b'{"user_id": 7, "day": 1, "event": "profile", "signup_day": 1, "plan": "gold"}',
          b"\x00\x01\x02", b'{"rows": [{"tenure_days": "abc"}]}', b'{"rows": 5}', b'{"rows": [[1, 2]]}',
          b'{"rows": [{"plan": {"a": 1}}]}', b'{"rows": [], "extra": 1}']
paths = ["/api/events", "/api/score", "/api/customers/1", "/api/customers/%00", "/api/customers/1?x=1",
         "/api/recommend/1?k=100000", "/api/recommend/1?k=-1", "/../../etc/passwd", "/assets/../web/x",
         "/assets/%2e%2e/%2e%2e/etc/passwd", "/api/customers/" + "9" * 400, "/api/monitor?" + "a=1&" * 50,
         "/api/reload", "/metrics?x", "/" + "a" * 3000]
methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"]
bad_status = 0
for i in range(n):
    m, p, b = rnd.choice(methods), rnd.choice(paths), rnd.choice(bodies + [None])
    h = dict(auth) if rnd.random() < 0.5 else {}
    st, body, ctype = req(m, p, b, h)
    if st is None or st < 200 or st > 599:
        bad_status += 1
        if bad_status <= 3:
            fails.append("%s %s -> %s" % (m, p[:60], body[:80]))
    elif st >= 400 and "json" in ctype:
        try:
            e = json.loads(body)["error"]
            assert e["status"] == st and e["message"]
        except Exception:
            fails.append("%s %s -> %d with a body that is not a JSON error: %r" % (m, p[:60], st, body[:80]))
print(("ok   " if bad_status == 0 else "FAIL ") + "%d hostile requests answered with a status (%d without)" % (n, bad_status))

# oversized headers and bodies
st, _, _ = req("GET", "/healthz", headers={"X-Big": "a" * 40000})
print(("ok   " if st in (None, 413, 431) else "FAIL ") + "a 40 KB header is refused (%s)" % st)
if st not in (None, 413, 431): fails.append("big header: %s" % st)
st, body, _ = req("POST", "/api/events", body=b"x" * (5 << 20), headers=auth, timeout=30)
print(("ok   " if st in (None, 413) else "FAIL ") + "a 5 MB body is refused (%s)" % st)
if st not in (None, 413): fails.append("big body: %s" % st)

# a slow client that never finishes its request does not stop anyone else
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
st, _, _ = req("GET", "/healthz", timeout=5)
print(("ok   " if st == 200 else "FAIL ") + "a stalled client does not block others (%s in %.2f s)" % (st, time.time() - t0))
if st != 200: fails.append("stalled client blocks: %s" % st)
s.close()
st, _, _ = req("GET", "/healthz")
print(("ok   " if st == 200 else "FAIL ") + "the service still answers after the hostile run")
if st != 200: fails.append("dead after hostile run")
for f in fails:
    print("     " + f)
sys.exit(1 if fails else 0)
