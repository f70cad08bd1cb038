-- Tests of churnlab.synth: generation, files, determinism, replays, policies, errors.
local T = dofile("tests/lua/lib/check.lua")
local synth = require "churnlab.synth"
local cl = require "churnlab"

local tmp = os.tmpname()
os.remove(tmp)
local dir1, dir2 = tmp .. "_synth_a", tmp .. "_synth_b"
local FILES = {"titles.csv", "users.csv", "events.csv", "ratings.csv", "campaign.csv",
               "emails.csv", "truth.csv", "README.md"}

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

local P = {customers = 1500, titles = 300, seed = 11}
local w

T.test("generate writes every file with its header", function()
  cl.threads(1)
  w = synth.generate(dir1, P)
  cl.threads(0)
  for _, f in ipairs(FILES) do T.ok(#slurp(dir1 .. "/" .. f) > 0, f) end
  T.eq(lines(dir1 .. "/users.csv")[1], "user_id,signup_day,signup_date,tenure_days,age_band,"
    .. "region,plan,monthly_price,discount_pct,payment_method,devices,device_types,channel,"
    .. "active,churn_day,churn")
  T.eq(lines(dir1 .. "/events.csv")[1], "user_id,day,event,title_id,minutes,completion,device,detail")
  T.eq(#lines(dir1 .. "/users.csv"), 1501)
  T.eq(#lines(dir1 .. "/titles.csv"), 301)
  T.ok(tostring(w):find("churnlab.SynthWorld 1500 customers", 1, true), tostring(w))
end)

T.test("same seed, other thread count: byte-identical files", function()
  cl.threads(2)
  local w2 = synth.generate(dir2, P)
  cl.threads(0)
  for _, f in ipairs(FILES) do T.ok(slurp(dir1 .. "/" .. f) == slurp(dir2 .. "/" .. f), f) end
  w2:free()
end)

T.test("users.csv labels agree with the world", function()
  local lab = w:labels()
  local u = lines(dir1 .. "/users.csv")
  for i = 2, #u do
    local cols = {}
    for c in (u[i] .. ","):gmatch("([^,]*),") do cols[#cols + 1] = c end
    local id, active, churn = tonumber(cols[1]), cols[14], cols[16]
    T.eq(#cols, 16)
    if active == "1" then T.eq(tonumber(churn), lab[id]) else T.eq(lab[id], -1) end
  end
end)

T.test("the e-mail log: one newsletter per customer-fortnight, a noisy trace of price sensitivity", function()
  T.eq(lines(dir1 .. "/emails.csv")[1], "user_id,day,opened,price_click")
  local users = cl.read_csv(dir1 .. "/users.csv")
  local truth = cl.read_csv(dir1 .. "/truth.csv")
  local sd, act, cd, plan = users.signup_day:totable(), users.active:totable(), users.churn_day:totable(),
                            users.plan:totable()
  local sens = truth.price_sensitivity:totable()
  -- every customer gets the e-mail of day 7, 21, ... while a customer (signed up, not yet
  -- cancelled: a customer cancelling on day d is gone that day), and nobody else
  local want = {}
  for id = 1, #sd do
    for d = 7, 179, 14 do -- the default 180-day window
      if sd[id] <= d and (act[id] == 1 or cd[id] > d) then want[id .. ":" .. d] = true end
    end
  end
  local e = cl.read_csv(dir1 .. "/emails.csv")
  local eu, ed, eo, ec = e.user_id:totable(), e.day:totable(), e.opened:totable(), e.price_click:totable()
  local rows, opened, clicks, expect, var = 0, 0, 0, 0, 0
  local o, c = {}, {}
  for k = 1, #eu do
    local key = eu[k] .. ":" .. ed[k]
    T.ok(want[key], "e-mail to a non-customer: " .. key)
    want[key] = nil
    rows = rows + 1
    T.ok(ec[k] <= eo[k], "a click on an unopened e-mail")
    if eo[k] == 1 then
      -- the documented click model, from the hidden sensitivity: sigmoid(-3 + 5 s)
      local q = 1 / (1 + math.exp(3 - 5 * sens[eu[k]]))
      opened, clicks, expect, var = opened + 1, clicks + ec[k], expect + q, var + q * (1 - q)
    end
    o[eu[k]], c[eu[k]] = (o[eu[k]] or 0) + eo[k], (c[eu[k]] or 0) + ec[k]
  end
  T.eq(next(want), nil, "a customer missed an e-mail")
  -- binomial counts: within 4 standard deviations of the documented rates
  T.ok(math.abs(opened - 0.45 * rows) < 4 * math.sqrt(rows * 0.45 * 0.55), opened .. " of " .. rows .. " opened")
  T.ok(math.abs(clicks - expect) < 4 * math.sqrt(var), clicks .. " clicks, expected " .. expect)
  -- on every plan the click-through share tracks s, far from exactly: a proxy, not the truth
  for _, g in ipairs{"basic", "standard", "premium"} do
    local x, y = {}, {}
    for id = 1, #sd do
      if plan[id] == g and o[id] then x[#x + 1], y[#y + 1] = (c[id] + 0.5) / (o[id] + 2), sens[id] end
    end
    local mx, my, sxy, sxx, syy = 0, 0, 0, 0, 0
    for k = 1, #x do mx, my = mx + x[k] / #x, my + y[k] / #x end
    for k = 1, #x do
      sxy, sxx, syy = sxy + (x[k] - mx) * (y[k] - my), sxx + (x[k] - mx) ^ 2, syy + (y[k] - my) ^ 2
    end
    local r = sxy / math.sqrt(sxx * syy)
    T.ok(r > 0.45 and r < 0.9, g .. ": correlation of click share with s " .. r)
  end
  T.ok(slurp(dir1 .. "/README.md"):find("### emails.csv", 1, true), "the dictionary documents emails.csv")
end)

T.test("the data dictionary documents the causes of churn", function()
  local readme = slurp(dir1 .. "/README.md")
  for _, k in ipairs(synth.coefs()) do
    T.ok(readme:find("| " .. k.name .. " |", 1, true), k.name)
  end
  T.ok(readme:find("churn within 30 days", 1, true))
end)

T.test("info counts are consistent", function()
  local i = w:info()
  T.eq(i.customers, 1500)
  T.eq(i.active + i.churned_in_window, 1500)
  T.eq(i.plan_basic + i.plan_standard + i.plan_premium, 1500)
  T.eq(#lines(dir1 .. "/ratings.csv") - 1, i.ratings)
  T.eq(#lines(dir1 .. "/events.csv") - 1, i.events)
  T.ok(i.churn_rate > 0 and i.churn_rate < 0.3, i.churn_rate)
  T.ok(i.oracle_auc > 0.6 and i.oracle_auc < 1, i.oracle_auc)
end)

T.test("replay with no policy reproduces the labels exactly", function()
  local lab = w:labels()
  for _, pol in ipairs({false, "none", function() return nil end}) do
    local r = w:replay(pol and {policy = pol} or nil)
    for id = 1, #lab do
      if lab[id] >= 0 then T.eq(r.retained[id], 1 - lab[id], "customer " .. id) end
    end
    T.eq(r.churn_rate, w:info().churn_rate)
  end
end)

T.test("discount for everyone lowers churn and revenue per head", function()
  local base = w:replay()
  local d = w:replay{policy = {discount = 30, months = 2}}
  T.ok(d.churned < base.churned, d.churned .. " < " .. base.churned)
  for id = 1, #base.retained do
    if base.retained[id] == 1 then T.eq(d.retained[id], 1) end
  end
  T.ok(d.revenue_total < base.revenue_total)
end)

T.test("content lowers the hazard as far as it matches taste", function()
  local T_ = 300
  local best, worst = {}, {}
  for id = 1, 1500 do
    local hi, lo = -1, math.huge
    for t = 1, T_ do
      local a = w:appeal(id, t)
      if a > hi then hi, best[id] = a, t end
      if a < lo then lo, worst[id] = a, t end
    end
  end
  local r0 = w:true_risk()
  local rg = w:true_risk{policy = function(id) return {content = {best[id]}} end}
  local rb = w:true_risk{policy = function(id) return {content = {worst[id]}} end}
  -- the title's quality counts too (watch-through), so the best-matching title helps most
  -- customers, not all; the worst-matching one is abandoned and disappoints nearly everyone
  -- (it used to leave the hazard unchanged: content could never hurt)
  local n, helped, hurt = 0, 0, 0
  local many = {}
  for id = 1, 1500 do
    local l = {}
    for k = 1, 20 do l[k] = best[id] end
    many[id] = l
  end
  local rm = w:true_risk{policy = function(id) return {content = many[id]} end}
  local tired = 0
  for id = 1, 1500 do
    if r0[id] == r0[id] then -- active (NaN otherwise)
      n = n + 1
      if rg[id] < r0[id] then helped = helped + 1 end
      if rb[id] > r0[id] then hurt = hurt + 1 end
      if rm[id] > rg[id] then tired = tired + 1 end -- 20 titles tire: 0.6 per unit of boost
    else
      T.ok(rg[id] ~= rg[id])
    end
  end
  T.ok(n > 500)
  T.ok(helped > 0.8 * n, helped .. " of " .. n .. " helped by their best genre match")
  T.ok(hurt > 0.9 * n, hurt .. " of " .. n .. " hurt by their worst genre match")
  T.eq(tired, n) -- the fatigue term is the same for everyone and the boost otherwise equal
end)

T.test("discounts: no free lunch at the edges, diminishing returns in the size", function()
  local base = w:replay{days = 360}
  local function run(pct) return w:replay{days = 360, policy = {discount = pct, months = 1}} end
  local d1, d25, d50, d100 = run(1), run(25), run(50), run(100)
  -- a 100% discount used to take the log of a zero price: no churn at all for its month
  local r100 = w:true_risk{days = 30, policy = {discount = 100, months = 1}}
  local any = false
  for id = 1, #base.retained do if r100[id] == r100[id] and r100[id] > 0 then any = true end end
  T.ok(any, "a free month still leaves a churn risk")
  T.ok(d100.churned > 0)
  -- a 1% discount used to earn the full bonus hazard and so raise revenue; now it costs
  -- about 1% of a month and saves almost nobody
  T.ok(d1.revenue_total < base.revenue_total, d1.revenue_total .. " < " .. base.revenue_total)
  T.ok(base.churned - d1.churned < 0.1 * (base.churned - d25.churned))
  -- bigger discounts keep more customers, with diminishing returns per point
  T.ok(d25.churned < d1.churned and d50.churned <= d25.churned and d100.churned <= d50.churned)
  local g1 = (base.churned - d25.churned) / 25
  local g2 = (d25.churned - d100.churned) / 75
  T.ok(g2 < g1, string.format("%.2f per point after 25%% < %.2f before", g2, g1))
end)

T.test("replay luck: other random numbers for the same customers, the same world", function()
  local l0, d0 = w:replay{days = 30}, w:replay{days = 30, luck = 0}
  local one, two = w:replay{days = 30, luck = 1}, w:replay{days = 30, luck = 2}
  local differ = 0
  for id = 1, #l0.churn_day do
    T.eq(d0.churn_day[id], l0.churn_day[id]) -- luck 0 is the world's own replay
    if one.churn_day[id] ~= l0.churn_day[id] then differ = differ + 1 end
    -- the same customers are active under any luck (the snapshot is not redrawn); a
    -- customer not active gets retained 0 and churn day -1
    local function here(o) return not (o.retained[id] == 0 and o.churn_day[id] == -1) end
    T.eq(here(one), here(l0))
  end
  T.eq(one.active, l0.active)
  T.ok(differ > 0.02 * l0.active, differ .. " of " .. l0.active .. " customers' fates differ between lucks 0 and 1")
  local differ2 = 0
  for id = 1, #one.churn_day do if one.churn_day[id] ~= two.churn_day[id] then differ2 = differ2 + 1 end end
  T.ok(differ2 > 0.02 * l0.active, differ2 .. " customers' fates differ between lucks 1 and 2")
  -- the same luck is the same draw at any thread count
  cl.threads(1)
  local a = w:replay{days = 60, luck = 7, policy = {discount = 20, months = 1}}
  cl.threads(2)
  local b = w:replay{days = 60, luck = 7, policy = {discount = 20, months = 1}}
  cl.threads(0)
  for id = 1, #a.churn_day do T.eq(a.churn_day[id], b.churn_day[id]); T.eq(a.revenue[id], b.revenue[id]) end
  -- the lucks are draws of the same world: their mean churn is the true risk's expectation
  -- (the true risk follows the expected path, without new tickets and payment failures,
  -- which run it about 4% low here), and luck 0 is one of those draws
  local r, s = w:true_risk{days = 30}, 0
  for id = 1, #r do if r[id] == r[id] then s = s + r[id] end end
  local K, m, m2 = 40, 0, 0
  for k = 1, K do local c = w:replay{days = 30, luck = 100 + k}.churned; m, m2 = m + c / K, m2 + c * c / K end
  local sd = math.sqrt(m2 - m * m)
  T.ok(math.abs(m - s) < 0.1 * s, string.format("mean churn over %d lucks %.1f, true risk %.1f", K, m, s))
  T.ok(math.abs(l0.churned - m) < 4 * sd, string.format("luck 0 churns %d, the lucks %.1f (sd %.1f)", l0.churned, m, sd))
  T.raises(function() w:replay{luck = -1} end, "luck must be a whole number >= 0")
  T.raises(function() w:replay{luck = 1.5} end, "luck must be a whole number >= 0")
end)

T.test("tastes, genres and title genres", function()
  local t = w:tastes(3)
  T.eq(#t, 18)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  T.near(s, 1, 1e-5)
  T.eq(#w:tastes(), 1500)
  T.eq(#w:genres(), 18)
  T.eq(synth.genres()[1], "drama")
  local g = w:title_genres(1)
  T.ok(#g >= 1 and #g <= 3)
  T.ok(w:churn_day(1) == nil or math.type(w:churn_day(1)) == "integer")
end)

T.test("bad input gets clear errors", function()
  T.raises(function() synth.world{customers = 0} end, "customers")
  T.raises(function() synth.world{custmers = 10} end, "unknown parameter 'custmers'")
  T.raises(function() synth.world{basic_share = 0.9, premium_share = 0.3} end,
    "basic_share + premium_share")
  T.raises(function() w:replay{policy = "hug"} end, "customer", "unknown action 'hug'")
  T.raises(function() w:replay{policy = {discount = 0}} end, "discount must be a percent")
  T.raises(function() w:replay{policy = {discount = 10, months = 0}} end, "months")
  T.raises(function() w:replay{policy = {content = {301}}} end, "content[1] must be a title id in 1..300")
  T.raises(function() w:replay{policy = {content = {}}} end, "content needs 1..1000")
  T.raises(function() w:replay{policy = {discount = 10, outreach = true}} end, "give one of")
  T.raises(function() w:replay{policy = {gift = 1}} end, "action for customer 1: unknown key 'gift'")
  T.raises(function() w:replay{policy = {discount = 10, monts = 2}} end, "unknown key 'monts'")
  T.raises(function() w:replay{policy = function() return 42 end} end, "expected a string or table")
  T.raises(function() w:replay{days = 0} end, "days must be an integer")
  T.raises(function() w:tastes(0) end, "customer id 0 out of range 1..1500")
  T.raises(function() w:title_genres(301) end, "title id 301 out of range")
  T.raises(function() synth.generate("/proc/nonexistent/x", {customers = 10}) end, "/proc/nonexistent")
end)

T.test("longer replay horizon and outreach", function()
  local r90 = w:replay{days = 90}
  local r30 = w:replay()
  T.eq(r90.days, 90)
  T.ok(r90.churned > r30.churned)
  local o = w:replay{policy = "outreach"}
  T.ok(o.churned <= r30.churned)
end)

T.test("the past campaign's truth: every enrolled customer's risk with and without the discount", function()
  local truth = w:campaign_truth()
  local camp = cl.read_csv(dir1 .. "/campaign.csv")
  local ids, tr, ch = camp.user_id:totable(), camp.treated:totable(), camp.churn:totable()
  local enrolled = {}
  for k = 1, #ids do enrolled[ids[k]] = k end
  local nan, lower = 0, 0
  for id = 1, #truth.control do
    local c, t = truth.control[id], truth.treated[id]
    if enrolled[id] then
      T.ok(c == c and t == t and c > 0 and c < 1, "customer " .. id .. " has a risk")
      if t < c then lower = lower + 1 end
    else
      T.ok(c ~= c and t ~= t, "customer " .. id .. " not enrolled: NaN")
      nan = nan + 1
    end
  end
  T.eq(nan, #truth.control - #ids)
  T.eq(lower, #ids) -- the world's discount lowers everyone's hazard
  -- each arm's mean true risk against its observed churn: within 4 binomial standard errors
  -- plus 0.03 (the expected path has no new tickets or payment failures, so it runs low)
  for arm = 0, 1 do
    local s, k, m = 0, 0, 0
    for j = 1, #ids do
      if tr[j] == arm then
        s, k, m = s + ch[j], k + 1, m + (arm == 1 and truth.treated or truth.control)[ids[j]]
      end
    end
    local rate, mean = s / k, m / k
    T.ok(math.abs(rate - mean) < 4 * math.sqrt(rate * (1 - rate) / k) + 0.03,
         string.format("arm %d: observed %.3f, true mean %.3f (%d customers)", arm, rate, mean, k))
  end
end)

T.test("a freed world is a clear error", function()
  local x = synth.world{customers = 50, titles = 100}
  x:free()
  x:free()
  T.raises(function() x:info() end, "freed")
  T.ok(tostring(x):find("freed", 1, true))
end)

w:free()
for _, d in ipairs({dir1, dir2}) do
  for _, f in ipairs(FILES) do os.remove(d .. "/" .. f) end
  os.remove(d)
end
T.done()
