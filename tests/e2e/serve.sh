#!/bin/sh
# End-to-end: `churnlab serve` on a small generated world (3000 customers), driven with curl
# over 127.0.0.1 only: every endpoint with good and bad input, a few thousand hostile requests
# (tests/e2e/serve_hostile.py; under ASan in the sanitizer runs), kill -9 after acknowledged
# events then a restart that still has them, a script route of cl.serve, and SIGTERM draining
# to a clean exit. Skips without curl or python3. Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/serve.sh
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }
for tool in curl python3; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "skip serve e2e ($tool not installed: scripts/install-deps.sh installs it)"
        echo "0 passed, 0 failed"
        exit 0
    fi
done
T=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
D="$T/d"
HOSTILE=3000
[ -n "${CHURNLAB_SANITIZER:-}" ] && HOSTILE=1000

# a small world, its features, and a gbdt saved with its pipeline
cat >"$T/fit.lua" <<LUA
local cl = require "churnlab"
local df = cl.read_csv("$D/features.csv")
local p = cl.prep.pipeline{target = "churn", drop = {"user_id"}}
p:fit(df)
local X, y = p:transform(df)
local m = cl.gbdt{trees = 40, depth = 3, seed = 1}
m:fit(X, y)
m:save("$T/m.clm", {pipeline = p})
LUA
if "$C" scripts/gen_data.lua "$D" customers=3000 titles=300 >"$T/log" 2>&1 &&
    "$C" notebooks/02_features.lua "$D" "$T/r" >>"$T/log" 2>&1 && "$C" "$T/fit.lua" >>"$T/log" 2>&1; then
    ok "small world, features.csv and a model"
else
    bad "small world, features.csv and a model" "$(tail -5 "$T/log")"
    echo "$passed passed, $failed failed"
    exit 1
fi
head -1 "$D/events.csv" >"$T/empty.csv"

# start: port 0 (any free port), read back from the first line of stdout
start() { # $1 = extra options; sets PID and PORT
    "$C" serve --data "$D" --model "$T/m.clm" --state "$T/state" --port 0 --token tok $1 \
        >"$T/out" 2>"$T/err" &
    PID=$!
    PORT=
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/out")
        [ -n "$PORT" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.2
    done
    [ -n "$PORT" ]
}
get() { curl -s -m 20 -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT$1"; }
post() { # path body [token]
    curl -s -m 20 -o "$T/body" -w '%{http_code}' -X POST ${3:+-H "Authorization: Bearer $3"} \
        --data-binary "$2" "http://127.0.0.1:$PORT$1"
}
json() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)" 2>/dev/null; }

if start "--events $T/empty.csv"; then
    ok "serve starts and prints its address"
else
    bad "serve starts and prints its address" "$(tail -5 "$T/err")"
    echo "$passed passed, $failed failed"
    exit 1
fi
grep -q "^serve: http" "$T/err" && bad "no libmicrohttpd complaints on start" "$(grep '^serve: http' "$T/err")"

[ "$(get /healthz)" = 200 ] && [ "$(json "d['status']")" = ok ] && ok "GET /healthz" || bad "GET /healthz"
[ "$(get /api/monitor)" = 200 ] && n=$(json "d['kpi']['active']") && [ "${n:-0}" -gt 1000 ] &&
    ok "GET /api/monitor: $n active customers" || bad "GET /api/monitor" "$(head -c 300 "$T/body")"
ID=$(json "d['top'][0]['id']")
[ "$(get /api/customers/$ID)" = 200 ] &&
    [ "$(json "len(d['reasons']) > 0 and len(d['recommendations']) == 10 and 'expected_net_value' in d['action']")" = True ] &&
    ok "GET /api/customers/$ID: reasons, recommendations, action" ||
    bad "GET /api/customers/$ID" "$(head -c 300 "$T/body")"
[ "$(get /api/customers/987654)" = 404 ] && ok "an unknown customer is 404" || bad "an unknown customer is 404"
[ "$(get /api/customers/x1)" = 400 ] && ok "a malformed id is 400" || bad "a malformed id is 400"
[ "$(get "/api/recommend/$ID?k=5")" = 200 ] && [ "$(json "len(d['items'])")" = 5 ] &&
    ok "GET /api/recommend/$ID?k=5" || bad "GET /api/recommend/$ID?k=5" "$(head -c 300 "$T/body")"
[ "$(get "/api/recommend/$ID?k=5&colour=red")" = 400 ] && ok "an unknown query option is 400" ||
    bad "an unknown query option is 400"
[ "$(get "/api/customers?min_risk=0.3&limit=7")" = 200 ] && [ "$(json "len(d['customers']) <= 7")" = True ] &&
    ok "GET /api/customers?min_risk=0.3&limit=7" || bad "GET /api/customers?min_risk=0.3&limit=7"
# score a raw row of features.csv: the answer is the same customer's number as the batch
python3 - "$D/features.csv" "$T/row.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
r = rows[0]
out = {}
for k, v in r.items():
    if k in ("churn", "user_id"): continue
    try: out[k] = float(v)
    except ValueError: out[k] = v if v != "" else None
json.dump({"rows": [out]}, open(sys.argv[2], "w"))
PY
[ "$(post /api/score "$(cat "$T/row.json")")" = 200 ] && p=$(json "d['probabilities'][0]") &&
    ok "POST /api/score: p = $p" || bad "POST /api/score" "$(head -c 300 "$T/body")"
[ "$(post /api/score '{"rows": [{"colour": 1}]}')" = 400 ] && ok "POST /api/score with an unknown column is 400" ||
    bad "POST /api/score with an unknown column is 400"
[ "$(get /metrics)" = 200 ] && grep -q '^churnlab_requests_total{route="/api/customers/:id",code="2xx"}' "$T/body" &&
    ok "GET /metrics (Prometheus text)" || bad "GET /metrics" "$(head -5 "$T/body")"
curl -s -m 3 -N "http://127.0.0.1:$PORT/api/stream" >"$T/sse" 2>/dev/null
grep -q '^event: monitor' "$T/sse" && grep -q '^data: {"version"' "$T/sse" &&
    ok "GET /api/stream sends the aggregates as server-sent events" || bad "GET /api/stream" "$(head -c 200 "$T/sse")"
[ "$(get /)" = 200 ] && grep -qi "<html" "$T/body" && ok "GET / is the dashboard" || bad "GET / is the dashboard"

# events: the token, then acknowledged tickets that must survive kill -9
[ "$(get /api/customers/$ID)" = 200 ]
T30=$(json "int(d['features']['tickets_30'])")
DAY=$(curl -s "http://127.0.0.1:$PORT/healthz" | python3 -c "import json,sys; print(json.load(sys.stdin)['day'])")
EV=$(printf '{"user_id": %s, "day": %s, "event": "ticket"}\n' "$ID" "$DAY" "$ID" "$DAY" "$ID" "$DAY")
[ "$(post /api/events "$EV")" = 401 ] && ok "POST /api/events without the token is 401" || bad "POST /api/events without the token is 401"
[ "$(post /api/events "$EV" tok)" = 200 ] && [ "$(json "d['accepted']")" = 3 ] &&
    ok "POST /api/events: 3 tickets accepted" || bad "POST /api/events" "$(head -c 300 "$T/body")"
[ "$(get /api/customers/$ID)" = 200 ] && [ "$(json "int(d['features']['tickets_30'])")" = $((T30 + 3)) ] &&
    ok "the customer's answer changes at once (tickets_30 $T30 -> $((T30 + 3)))" ||
    bad "the customer's answer changes at once" "$(head -c 300 "$T/body")"
get "/api/recommend/$ID?k=5" >/dev/null
RECS1=$(json "[x['title'] for x in d['items']]")
grep -q "recommender: .* fitted .*kept in" "$T/err" && ok "first start fits the recommender and keeps it" ||
    bad "first start fits the recommender and keeps it" "$(grep recommender "$T/err")"
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
if start "--events $T/empty.csv" && [ "$(get /api/customers/$ID)" = 200 ] &&
    [ "$(json "int(d['features']['tickets_30'])")" = $((T30 + 3)) ]; then
    ok "kill -9, restart: the acknowledged events are there"
else
    bad "kill -9, restart: the acknowledged events are there" "$(head -c 300 "$T/body") $(tail -3 "$T/err")"
fi
get "/api/recommend/$ID?k=5" >/dev/null
RECS2=$(json "[x['title'] for x in d['items']]")
grep -q "recommender: .* loaded from" "$T/err" && [ -n "$RECS1" ] && [ "$RECS1" = "$RECS2" ] &&
    ok "the restart loads the recommender from its cache: the same recommendations $RECS2" ||
    bad "the restart loads the recommender from its cache" "$(grep recommender "$T/err") $RECS1 / $RECS2"

# hostile clients (a few thousand requests), then the service is still up and clean
if python3 tests/e2e/serve_hostile.py "$PORT" tok "$HOSTILE" >"$T/hostile" 2>&1; then
    ok "$(grep -c '^ok' "$T/hostile") hostile-client checks ($HOSTILE requests)"
else
    bad "hostile clients" "$(grep -A3 FAIL "$T/hostile" | head -8)"
fi

# SIGTERM drains and exits 0
kill -TERM "$PID"
code=0
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then
    bad "SIGTERM stops the service within 10 s"
else
    wait "$PID"
    code=$?
    PID=
    [ $code = 0 ] && grep -q "stopping (signal)" "$T/err" && ok "SIGTERM drains and exits 0" ||
        bad "SIGTERM drains and exits 0" "exit $code; $(tail -3 "$T/err")"
fi
if grep -q "AddressSanitizer\|runtime error" "$T/err"; then
    bad "no sanitizer reports from the service" "$(grep -m3 "AddressSanitizer\|runtime error" "$T/err")"
fi

# the world streamed live: the day moves on its own
if start "--speed 2 --days 60"; then
    d0=$(curl -s "http://127.0.0.1:$PORT/healthz" | python3 -c "import json,sys; print(json.load(sys.stdin)['day'])")
    sleep 2
    d1=$(curl -s "http://127.0.0.1:$PORT/healthz" | python3 -c "import json,sys; print(json.load(sys.stdin)['day'])")
    [ "$d1" -gt "$d0" ] && ok "the world streams: day $d0 -> $d1 in 2 s" || bad "the world streams" "day $d0 -> $d1"
    # the dashboard in headless Chromium against this live service (release build only: the
    # page is the same under a sanitizer); screenshots kept in build/serve-screenshots
    if [ -z "${CHURNLAB_SANITIZER:-}" ]; then
        SHOTS="$PWD/build/serve-screenshots"
        mkdir -p "$SHOTS"
        sh tests/browser/serve.sh "http://127.0.0.1:$PORT/" "$SHOTS" >"$T/browser" 2>&1
        last=$(tail -1 "$T/browser")
        case $last in
            "0 passed, 0 failed") echo "skip dashboard in Chromium: $(grep -m1 -i skip "$T/browser")" ;;
            *" 0 failed") ok "dashboard in headless Chromium: $last (screenshots in build/serve-screenshots)" ;;
            *) bad "dashboard in headless Chromium" "$(grep -A2 FAIL "$T/browser" | head -8)" ;;
        esac
    fi
    kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
fi

# a script route of cl.serve, answered by the Lua thread inside srv:run
cat >"$T/route.lua" <<LUA
local cl = require "churnlab"
local users, titles = cl.read_csv("$D/users.csv"), cl.read_csv("$D/titles.csv")
local st = cl.live.new{titles = titles, max_user = users.user_id:max()}
st:ingest(users:filter(users.active:eq(1)), {event = "profile"})
st:advance(180)
local srv = cl.serve.start{state = st, model = "$T/m.clm", profiles = users, port = 0,
  routes = {["/api/hello"] = function(req) return {status = 201, json = {hi = req.query.name, n = 3}} end}}
print("port " .. srv:port())
io.stdout:flush()
srv:run{seconds = 30, tick_ms = 100, tick = function()
  local f = io.open("$T/stop") if f then f:close() return false end end}
srv:stop()
LUA
"$C" "$T/route.lua" >"$T/rout" 2>"$T/rerr" &
RP=$!
for _ in $(seq 1 150); do grep -q '^port' "$T/rout" && break; sleep 0.2; done
PORT=$(sed -n 's/^port //p' "$T/rout")
code=$(get "/api/hello?name=ann")
[ "$code" = 201 ] && [ "$(json "d['hi'] + str(d['n'])")" = ann3 ] && ok "a script route answers from Lua (201 {hi, n})" ||
    bad "a script route answers from Lua" "$code $(head -c 200 "$T/body") $(tail -3 "$T/rerr")"
[ "$(get /healthz)" = 200 ] && ok "the service's own routes beside the script's" || bad "the service's own routes beside the script's"
touch "$T/stop"
wait $RP && ok "the script stops the service and exits 0" || bad "the script stops the service and exits 0" "$(tail -3 "$T/rerr")"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
