#!/bin/sh
# Durability of the live log: a writer ingests numbered batches of events into a live state
# with a log and a snapshot (every 7th batch), printing "ack <seq>" only after ingest returns
# (the batch committed); it is killed with SIGKILL at a random moment, restarted (state
# rebuilt from snapshot + log, continuing after the last logged batch), and killed again.
# After every kill a checker rebuilds the state and requires: every acknowledged batch is
# there (last logged seq >= last ack), nothing twice (the rebuilt state's bytes equal a fresh
# state fed batches 1..last exactly once, and the logged event count matches), and a state
# rebuilt from the log alone is the same. LIVE_KILLS kills (default 25; 10 under a sanitizer).
#   CHURNLAB=build/release/churnlab [LIVE_KILLS=100] sh tests/e2e/live_kill.sh
# Last line "N passed, M failed".
CL=${CHURNLAB:-./churnlab}
case $CL in /*) ;; *) CL=$(pwd)/$CL ;; esac
if [ -n "${CHURNLAB_SANITIZER:-}" ]; then KILLS=${LIVE_KILLS:-10}; else KILLS=${LIVE_KILLS:-25}; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }

# Batch b: 40 valid events for customers 1..300, days moving forward with b (so none is
# refused as too late), drawn from math.random seeded by b.
cat > "$T/batch.lua" <<'LUA'
return function(b)
  math.randomseed(b)
  local ev, day = {}, b // 4
  for i = 1, 40 do
    local u, k = math.random(300), math.random()
    if k < 0.8 then
      ev[i] = {user_id = u, day = day, event = "watch", title_id = math.random(500),
        minutes = math.random(0, 120), completion = math.random()}
    elseif k < 0.9 then
      ev[i] = {user_id = u, day = day, event = "ticket"}
    else
      ev[i] = {user_id = u, day = day, event = "rating", rating = math.random(5)}
    end
  end
  return ev
end
LUA

cat > "$T/writer.lua" <<'LUA'
local live = require "churnlab.live"
local dir = arg[1]
local batch = dofile(dir .. "/batch.lua")
local s = live.new{max_user = 1000, log = dir .. "/live.db", snapshot = dir .. "/live.snap"}
local b = s:stats().batches
while true do
  b = b + 1
  local r = s:ingest(batch(b))
  assert(r.rejected == 0 and r.seq == b, "batch " .. b .. ": " .. tostring(r.reasons[1]))
  io.stdout:write("ack ", r.seq, "\n")
  io.stdout:flush()
  if b % 7 == 0 then s:snapshot() end
end
LUA

cat > "$T/check.lua" <<'LUA'
local live = require "churnlab.live"
local dir, acked = arg[1], tonumber(arg[2])
local batch = dofile(dir .. "/batch.lua")
local s = live.new{max_user = 1000, log = dir .. "/live.db", snapshot = dir .. "/live.snap"}
local st = s:stats()
local last = st.batches
if last < acked then
  print(string.format("lost: acknowledged batch %d, the log ends at %d", acked, last)) os.exit(1)
end
local fresh = live.new{max_user = 1000}
for b = 1, last do assert(fresh:ingest(batch(b)).rejected == 0) end
if st.logged ~= 40 * last or st.events ~= 40 * last then
  print(string.format("count: %d batches but %d logged, %d in the state", last, st.logged,
    st.events)) os.exit(1)
end
if fresh:image() ~= s:image() then print("state differs from batches 1.." .. last .. " once each") os.exit(1) end
local logonly = live.new{max_user = 1000, log = dir .. "/live.db"}
if logonly:image() ~= s:image() then print("log-only rebuild differs from snapshot + log") os.exit(1) end
print(string.format("last %d acked %d", last, acked))
LUA

acked=0
good=0
i=0
while [ "$i" -lt "$KILLS" ]; do
    i=$((i + 1))
    "$CL" "$T/writer.lua" "$T" >>"$T/acks" 2>"$T/werr" &
    pid=$!
    # 0.05 .. 0.6 s: inside ingest, commit, snapshot or the restart's rebuild
    sleep "$(awk -v s="$i$$" 'BEGIN { srand(s); printf "%.3f", 0.05 + 0.55 * rand() }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -s "$T/werr" ] && ! grep -q "Killed" "$T/werr"; then
        bad "writer run $i failed" "$(head -3 "$T/werr")"
        break
    fi
    a=$(awk '/^ack / { n = $2 } END { print n + 0 }' "$T/acks")
    [ "$a" -gt "$acked" ] && acked=$a
    if out=$("$CL" "$T/check.lua" "$T" "$acked" 2>&1); then
        good=$((good + 1))
    else
        bad "after kill $i: every acknowledged batch present, none twice" "$out"
        break
    fi
done
[ "$good" -eq "$KILLS" ] && ok "$KILLS kill -9 points: every acknowledged batch in the state, none twice ($acked batches acknowledged)"
# the kills must have landed while batches were being written, or the test proves nothing
[ "$acked" -ge "$KILLS" ] && ok "writers made progress between kills ($acked batches)" ||
    bad "writers made progress between kills" "only $acked batches acknowledged"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
