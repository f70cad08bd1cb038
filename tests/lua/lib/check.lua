-- check.lua: a small assertion helper for the Lua tests.
--   local T = dofile("tests/lua/lib/check.lua")
--   T.test("mm multiplies", function() T.eq(a:mm(b):get(1, 1), 19) end)
--   T.skip("needs ../shared", "telco data not found")
--   T.done()   -- prints "N passed, M failed[, K skipped]" and exits non-zero on failure
-- Failures report the test file and line of the failing assertion.
local T = {passed = 0, failed = 0, skipped = 0}

local function where(level)
  local info = debug.getinfo(level + 1, "Sl")
  return info and (info.short_src .. ":" .. info.currentline) or "?"
end

local function fail(msg, level)
  error({check = true, msg = msg, where = where(level + 1)}, 0)
end

function T.test(name, fn)
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e.check then return e end
    return {msg = tostring(e), where = debug.traceback("", 2)}
  end)
  if ok then
    T.passed = T.passed + 1
    print("ok   " .. name)
  else
    T.failed = T.failed + 1
    print("FAIL " .. name .. "\n     " .. err.where .. ": " .. err.msg)
  end
end

function T.skip(name, why)
  T.skipped = T.skipped + 1
  print("skip " .. name .. " (" .. why .. ")")
end

function T.ok(v, msg) if not v then fail(msg or "expected a true value", 2) end return v end

function T.eq(a, b, msg)
  if a ~= b then
    fail((msg and msg .. ": " or "") .. "expected " .. tostring(b) .. ", got " .. tostring(a), 2)
  end
end

function T.near(a, b, tol, msg)
  tol = tol or 1e-6
  if type(a) ~= "number" or type(b) ~= "number" or math.abs(a - b) > tol * math.max(1, math.abs(b)) then
    fail((msg and msg .. ": " or "") .. string.format("expected %.10g (tol %g), got %s", b, tol, tostring(a)), 2)
  end
end

-- Calls fn and requires an error whose message contains every `pattern` (plain text).
function T.raises(fn, ...)
  local ok, err = pcall(fn)
  if ok then fail("expected an error", 2) end
  err = tostring(err)
  for _, p in ipairs({...}) do
    if not err:find(p, 1, true) then
      fail("error message '" .. err .. "' lacks '" .. p .. "'", 2)
    end
  end
  return err
end

-- Path of a shared data set, or nil (the caller skips, saying so) in a user's clone.
function T.shared(rel)
  local p = "../shared/data/" .. rel
  local f = io.open(p, "r")
  if f then f:close() return p end
  return nil
end

function T.done()
  local line = string.format("%d passed, %d failed", T.passed, T.failed)
  if T.skipped > 0 then line = line .. string.format(", %d skipped", T.skipped) end
  print(line)
  os.exit(T.failed == 0 and 0 or 1)
end

return T
