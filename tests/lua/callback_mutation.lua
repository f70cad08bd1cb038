-- Callbacks that change their caller (issue 22). Every API that calls Lua from a C loop, with
-- a callback that refits, frees or writes into the objects the loop is using: the answer must
-- be the one of the objects as they were at the call (or a clear error), never freed memory
-- (run under ASan by `make SANITIZER=address test`). Before, a recommend filter that refitted
-- its recommender read freed memory and silently returned no items.
--
-- The C-to-Lua callbacks (grep lua_call / lua_pcall / lcl_pcall in lua/bind and lua/support):
--   rec      m:recommend(u, k, {filter = fn}), m:recommend_for(history, k, {filter = fn})
--   synth    w:replay{policy = fn}
--   xai      permutation, ice, kernelshap, lime: model:predict(X) or fn(X) (and through them
--            churnlab.explain's importance, pdp, shap with method = "kernel", lime)
-- The other lua_call sites call churnlab's own functions (table.sort on name lists, frame
-- constructors, module loaders, rec_eval.print_table, a pipeline's transform, totable of
-- an argument while arguments are read) before or after a C loop, never while one holds C
-- state. Progress bars are C callbacks, frames have no map/apply/filter or sort comparators
-- in C, and strategy policies are called from Lua (churnlab.strategy).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec
local xai = require "churnlab.xai"
local synth = require "churnlab.synth"

local function settle()
  collectgarbage(); collectgarbage()
end

-- ---- recommend{filter = ...} -------------------------------------------------------------

local function data(shift)
  local users, items, values = {}, {}, {}
  for u = 1, 30 do
    for j = 1, 6 do
      users[#users + 1] = u
      items[#items + 1] = ((u * 7 + j * 5 + shift) % 40) + 1
      values[#values + 1] = 1 + (u + j) % 5
    end
  end
  return rec.interactions{users = users, items = items, values = values}
end

local kinds = {
  popular = function() return rec.popular{} end,
  itemknn = function() return rec.itemknn{k = 10} end,
  mf = function() return rec.mf{factors = 4, epochs = 5, seed = 1} end,
  als = function() return rec.als{factors = 4, iters = 3, seed = 1} end,
}
local function same(a, b, what)
  T.eq(#a, #b, what .. ": count")
  for i = 1, #a do T.eq(a[i], b[i], what .. ": item " .. i) end
end

for _, name in ipairs{"popular", "itemknn", "mf", "als"} do
  local function fitted()
    local m = kinds[name]()
    m:fit(data(0))
    return m
  end
  local keep_all = function() return true end

  T.test(name .. ": a filter that refits the recommender: the ranking of the model as called",
    function()
      local want = fitted():recommend(3, 5, {filter = keep_all})
      local m = fitted()
      local other = data(17)
      local got = m:recommend(3, 5, {filter = function() m:fit(other) settle() return true end})
      same(got, want, name .. " refit in filter")
      -- the refit itself happened and the model works
      T.eq(#m:recommend(3, 5), 5)
      -- mf needs ratings for a fresh history (they are never guessed)
      local hist = {items = {1, 2, 3}, values = {5, 3, 4}}
      local wantf = fitted():recommend_for(hist, 4, {filter = keep_all})
      local m2 = fitted()
      local gotf = m2:recommend_for(hist, 4,
        {filter = function() m2:fit(other) settle() return true end})
      same(gotf, wantf, name .. " refit in recommend_for's filter")
    end)

  T.test(name .. ": a filter that frees the recommender and its data", function()
    local want = fitted():recommend(3, 5, {filter = keep_all})
    local inter = data(0)
    local m = kinds[name]()
    m:fit(inter)
    local calls = 0
    local got = m:recommend(3, 5, {filter = function()
      calls = calls + 1
      if calls == 1 then
        getmetatable(m).__close(m)
        getmetatable(inter).__close(inter)
        settle()
      end
      return true
    end})
    same(got, want, name .. " freed in filter")
    T.raises(function() m:recommend(3, 5) end, "freed")
  end)

  T.test(name .. ": a filter that raises after a refit: the error, nothing held", function()
    local m = fitted()
    T.raises(function()
      m:recommend(3, 5, {filter = function() m:fit(data(5)) error("filter says no", 0) end})
    end, "filter says no")
    settle()
    T.eq(#m:recommend(3, 5), 5)
  end)
end

-- ---- synth replay{policy = fn} -------------------------------------------------------------

T.test("replay: a policy that frees the world is a clear error", function()
  local w = synth.world{customers = 200, titles = 300, seed = 3}
  T.raises(function()
    w:replay{policy = function(id) if id > 5 then w:free() settle() end return nil end}
  end, "replay: the policy freed the world")
  T.raises(function() w:replay() end, "freed")
end)

T.test("replay: a policy that replays the same world inside gives the outer answer", function()
  local w = synth.world{customers = 200, titles = 300, seed = 3}
  local want = w:replay{policy = {discount = 20, months = 1}}
  local nested = 0
  local got = w:replay{policy = function(id)
    if nested < 2 then nested = nested + 1; w:replay() end
    return {discount = 20, months = 1}
  end}
  T.eq(got.churn_rate, want.churn_rate)
  for i = 1, #want.retained do T.eq(got.retained[i], want.retained[i], "customer " .. i) end
end)

-- ---- explain: a predict that writes into its argument and into the caller's X --------------

local n, d = 40, 3
local function fresh() return cl.tensor.randn(n, d, {seed = 11}) end
local y = {}
do
  local X = fresh()
  for i = 1, n do y[i] = X:get(i, 1) > 0 and 1 or 0 end
end
local function good(Xb)
  local r = Xb:shape()
  local p = cl.tensor.zeros(r)
  for i = 1, r do p:set(i, 1 / (1 + math.exp(-(Xb:get(i, 1) - 0.5 * Xb:get(i, 2))))) end
  return p
end
-- scribbles over its argument and over the caller's X after predicting
local function vandal(X)
  return function(Xb)
    local p = good(Xb)
    local r = Xb:shape()
    for i = 1, r do Xb:set(i, 1, 1e6) end
    X:set(1, 1, -1e6); X:set(n, 2, 1e6)
    return p
  end
end

local runs = {
  {"permutation", function(m, X) return {xai.permutation(m, X, y, {repeats = 2, seed = 3})} end},
  {"ice", function(m, X) return xai.ice(m, X, 1, {-1, 0, 1}):totable() end},
  {"kernelshap", function(m, X) return xai.kernelshap(m, X:rows(1, 3), X:rows(1, 10), {samples = 64}):totable() end},
  {"lime", function(m, X) return {xai.lime(m, X:rows(2, 2), X:rows(1, 10), {samples = 100})} end},
}
local function flat(v, out)
  out = out or {}
  if type(v) == "userdata" then v = v:totable() end
  if type(v) == "table" then for _, x in ipairs(v) do flat(x, out) end else out[#out + 1] = v end
  return out
end
for _, r in ipairs(runs) do
  local name, run = r[1], r[2]
  T.test(name .. ": a predict that writes into its argument and the caller's X", function()
    local want = flat(run(good, fresh()))
    local X = fresh()
    local got = flat(run(vandal(X), X))
    T.eq(#got, #want)
    for i = 1, #want do T.eq(got[i], want[i], name .. " value " .. i) end
  end)
end

T.test("explain: a predict that frees the model it wraps is a clear error", function()
  local X = fresh()
  local ylab = cl.tensor.new(y)
  local m = cl.gbdt{trees = 3}
  m:fit(X, ylab)
  local calls = 0
  local fn = function(Xb)
    calls = calls + 1
    if calls == 2 then getmetatable(m).__close(m) settle() end
    return m:predict(Xb)
  end
  T.raises(function() xai.permutation(fn, X, y, {repeats = 2}) end, "freed")
end)

T.done()
