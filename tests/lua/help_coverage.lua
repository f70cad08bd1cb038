-- help() coverage (issue 17): every exported function and method has a help text, help()
-- renders it without an error, and its heading names the function where a user finds it.
--
-- The walk: every function in every table of require "churnlab" (cl.<module>.<fn>, names
-- starting with '_' skipped), and every method not starting with "__" of every registry
-- metatable named churnlab.<Capitalised>: its __index table, its __methods table, and the
-- metatable itself when __index is a function (frames). A function is documented when
-- churnlab.core's docs() has it or the comment block above its Lua definition is non-empty.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local H = require "churnlab.help"
local docs = require("churnlab.core").docs()

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

-- entries[i] = {f = function, where = "cl.metrics.f1" | "churnlab.GBDT:fit"}, in a fixed order;
-- methods[f] = every "churnlab.Class:name" that reaches f, sorted (the heading help() owes it).
local entries, methods = {}, {}
for _, m in ipairs(sorted_keys(cl)) do
  local mod = cl[m]
  if type(mod) == "table" then
    for _, k in ipairs(sorted_keys(mod)) do
      if type(mod[k]) == "function" and not k:match("^_") then
        entries[#entries + 1] = {f = mod[k], where = "cl." .. m .. "." .. k}
      end
    end
  end
end
local reg = debug.getregistry()
local classes = {}
for _, tname in ipairs(sorted_keys(reg)) do
  if tname:match("^churnlab%.%u") and type(reg[tname]) == "table" then
    classes[#classes + 1] = tname
  end
end
for _, tname in ipairs(classes) do
  local mt = reg[tname]
  local idx = rawget(mt, "__index")
  local seen = {}
  for _, t in ipairs({idx, rawget(mt, "__methods"), type(idx) == "function" and mt or false}) do
    if type(t) == "table" then
      for _, k in ipairs(sorted_keys(t)) do
        local f = rawget(t, k)
        if type(f) == "function" and not k:match("^__") and not seen[k] then
          seen[k] = true
          local name = tname .. ":" .. k
          entries[#entries + 1] = {f = f, where = name}
          methods[f] = methods[f] or {}
          table.insert(methods[f], name)
        end
      end
    end
  end
end
for _, names in pairs(methods) do table.sort(names) end

-- The value a heading "cl.a.b" or "cl.a" names, or nil.
local function resolve(path)
  local v = cl
  for part in path:gsub("^cl%.", ""):gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = rawget(v, part)
  end
  return v
end

-- nil when the heading is right for e, else why not. A module function may be headed by
-- any cl path that reaches it (help() prefers the shortcut: cl.read_csv); a method that is
-- no module function by every class that shares it, joined by ", ".
local function heading_error(e, head)
  if head:match("^cl%.") then
    if not head:find(",", 1, true) and rawequal(resolve(head), e.f) then return nil end
    return "heading '" .. head .. "' does not lead to " .. e.where
  end
  local want = methods[e.f] and table.concat(methods[e.f], ", ")
  if head == want then return nil end
  return "heading '" .. head .. "', expected '" .. tostring(want) .. "'"
end

T.test("the walk finds the modules and the classes", function()
  T.ok(#entries > 300, "only " .. #entries .. " functions and methods found")
  for _, c in ipairs({"churnlab.Frame", "churnlab.Tensor", "churnlab.GBDT", "churnlab.GroupBy",
                      "churnlab.Recommender", "churnlab.SynthWorld"}) do
    T.ok(reg[c], c .. " not in the registry")
  end
end)

T.test("the heading check itself tells right from wrong", function()
  local shap = {f = cl.gbdt{}.shap, where = "churnlab.GBDT:shap"}
  T.eq(heading_error(shap, "churnlab.Forest:shap, churnlab.GBDT:shap, churnlab.Tree:shap"), nil)
  T.ok(heading_error(shap, "churnlab.Forest:shap"), "one class of three")
  T.ok(heading_error(shap, "cl.trees.gbdt"), "a path to another function")
  local f1 = {f = cl.metrics.f1, where = "cl.metrics.f1"}
  T.eq(heading_error(f1, "cl.metrics.f1"), nil)
  T.eq(heading_error({f = cl.frame.read_csv}, "cl.read_csv"), nil, "a shortcut")
  T.ok(heading_error(f1, "cl.metrics.fbeta"))
end)

T.test("every exported function and method has a help text", function()
  local missing, seen = {}, {}
  for _, e in ipairs(entries) do
    if not (docs[e.f] or H.comment_doc(e.f)) then
      missing[#missing + 1] = e.where
      seen[e.f] = true
    end
  end
  local nfun = 0
  for _ in pairs(seen) do nfun = nfun + 1 end
  T.ok(#missing == 0, string.format("%d names (%d functions) have no help text:\n       %s",
                                    #missing, nfun, table.concat(missing, "\n       ")))
end)

T.test("help(f) runs, its heading names the function and it fits 80 columns", function()
  local bad = {}
  for _, e in ipairs(entries) do
    local ok, s = pcall(H.text, e.f)
    if not ok then
      bad[#bad + 1] = e.where .. ": help() raised " .. tostring(s)
    elseif type(s) ~= "string" then
      bad[#bad + 1] = e.where .. ": help() returned a " .. type(s)
    else
      -- the heading: the lines before the indented doc (a long one is wrapped)
      local head = {}
      for line in (s .. "\n"):gmatch("(.-)\n") do
        if line:match("^  ") or line == "" then break end
        head[#head + 1] = line
      end
      head = table.concat(head, " ")
      local why = head:find(": no documentation yet", 1, true) and "no documentation yet"
                  or heading_error(e, head)
      for line in s:gmatch("[^\n]+") do
        if #line > 80 then why = why or ("a line wider than 80 columns: " .. line) end
      end
      if why then bad[#bad + 1] = e.where .. ": " .. why end
    end
  end
  T.ok(#bad == 0, #bad .. " bad help texts:\n       " .. table.concat(bad, "\n       "))
end)

T.test("a signature comes first in every C help text", function()
  -- "name(args) -> result: ..." (or name{...}, m:name(...)): listings show the signature.
  local bad = {}
  for _, e in ipairs(entries) do
    local d = docs[e.f]
    if d and not d:match("^[%w_.:]+%s*[%({]") then
      bad[#bad + 1] = e.where .. ": " .. d:sub(1, 50)
    end
  end
  T.ok(#bad == 0, #bad .. " texts without a signature:\n       " .. table.concat(bad, "\n       "))
end)

T.test("every class has a help text (help(obj) says what it is)", function()
  local missing = {}
  for _, tname in ipairs(classes) do
    if not (docs[tname] or docs[reg[tname]]) then missing[#missing + 1] = tname end
  end
  T.ok(#missing == 0, "classes without a help text: " .. table.concat(missing, ", "))
end)

T.test("help() of every module and every class runs", function()
  for _, m in ipairs(sorted_keys(cl)) do
    if type(cl[m]) == "table" then
      local ok, s = pcall(H.text, cl[m])
      T.ok(ok, "help(cl." .. m .. ") raised " .. tostring(s))
      T.ok(type(s) == "string" and s:find("^cl%." .. m), "help(cl." .. m .. "): " .. tostring(s))
      ok, s = pcall(H.text, m)
      T.ok(ok, "help('" .. m .. "') raised " .. tostring(s))
    end
  end
  for _, tname in ipairs(classes) do
    -- a stand-in object: help(obj) reads only the metatable
    local ok, obj = pcall(setmetatable, {}, reg[tname])
    if ok then
      local ok2, s = pcall(H.text, obj)
      T.ok(ok2, "help(<" .. tname .. ">) raised " .. tostring(s))
      T.ok(type(s) == "string" and s:find("^" .. tname:gsub("%.", "%%.")), tostring(s))
    end
  end
end)

T.done()
