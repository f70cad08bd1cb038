-- The rows of the XGBoost export tests: scripts/ref/xgb_export_fixtures.lua trains the committed
-- models on them and tests/lua/xgb_export_forest.lua retrains live ones. Returns a function
-- that starts the LCG at its seed and returns data(n) -> X (n x 4, ~8% missing in column 3),
-- y (0/1), and u, the stream's next uniform (calls of both continue one stream).
local tensor = require("churnlab").tensor
return function()
  local seed = 12345
  local function u() seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 end
  local function data(n)
    local X, y = {}, {}
    for i = 1, n do
      local r = {u() * 4 - 2, u() * 4 - 2, u(), u()}
      if u() < 0.08 then r[3] = 0 / 0 end -- missing values: learned default directions
      X[i] = r
      local z = r[1] - 0.8 * r[2] + (r[3] ~= r[3] and 0.5 or r[3])
      y[i] = u() < 1 / (1 + math.exp(-z)) and 1 or 0
    end
    return tensor(X), tensor(y)
  end
  return data, u
end
