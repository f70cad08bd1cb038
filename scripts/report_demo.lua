-- report_demo.lua: a small churn report from the Telco data (tables, five figures and
-- headline metrics), as an example of churnlab.plot and churnlab.report.
--
--   churnlab scripts/report_demo.lua [out.html [telco.csv]]
--
-- Defaults: reports/telco_demo.html from ../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv.
-- Reads the CSV with cl.read_csv when the frame module is built (and shows its first rows),
-- else with a small Lua reader.
-- The model is a plain logistic regression fitted here in Lua by gradient descent, so that
-- the demo runs on any build; the report is deterministic (no date).
local cl = require "churnlab"
local plot, report = cl.plot, cl.report

local out = arg and arg[1] or "reports/telco_demo.html"
local csv = arg and arg[2] or "../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv"

-- ---- data --------------------------------------------------------------------------------

-- Minimal RFC 4180 reader: returns header and a map name -> list of strings.
local function read_csv_lua(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local rows, row, field, i, n = {}, {}, {}, 1, #text
  local inq = false
  while i <= n do
    local c = text:sub(i, i)
    if inq then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
        else inq = false end
      else field[#field + 1] = c end
    elseif c == '"' then inq = true
    elseif c == "," then row[#row + 1] = table.concat(field); field = {}
    elseif c == "\n" or c == "\r" then
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      row[#row + 1] = table.concat(field); field = {}
      rows[#rows + 1] = row; row = {}
    else field[#field + 1] = c end
    i = i + 1
  end
  if #field > 0 or #row > 0 then row[#row + 1] = table.concat(field); rows[#rows + 1] = row end
  local head, cols = rows[1], {}
  for j, h in ipairs(head) do cols[h] = {} end
  for r = 2, #rows do
    if #rows[r] > 1 then
      for j, h in ipairs(head) do cols[h][#cols[h] + 1] = rows[r][j] end
    end
  end
  return cols, #rows - 1, "a small Lua CSV reader (frames not built)"
end

-- With the frame module: the same map of lists, read through the frame's columns.
local function read_csv_frame(path)
  if not cl.read_csv then return nil end
  local ok, fr = pcall(cl.read_csv, path)
  if not ok or not fr then return nil end
  local cols, n = {}, 0
  for _, name in ipairs{"customerID", "tenure", "MonthlyCharges", "Contract",
    "InternetService", "PaymentMethod", "Churn", "SeniorCitizen", "TotalCharges"} do
    local okc, col = pcall(function()
      local c = (type(fr.col) == "function" and fr:col(name)) or fr[name]
      return c:totable()
    end)
    if not okc or type(col) ~= "table" then return nil end
    for i, v in ipairs(col) do col[i] = v ~= nil and tostring(v) or "" end
    cols[name], n = col, #col
  end
  return cols, n, "cl.read_csv", fr
end

local fh = io.open(csv, "rb")
if not fh then
  io.stderr:write("report_demo: cannot open ", csv, " (the Telco data set)\n")
  os.exit(1)
end
fh:close()
local cols, n, reader, frame = read_csv_frame(csv)
if not cols then cols, n, reader = read_csv_lua(csv) end

local churn, tenure, monthly = {}, {}, {}
for i = 1, n do
  churn[i] = cols.Churn[i] == "Yes" and 1 or 0
  tenure[i] = tonumber(cols.tenure[i])
  monthly[i] = tonumber(cols.MonthlyCharges[i])
end

-- ---- a small model -----------------------------------------------------------------------

-- Features: standardized tenure and monthly charges, contract and internet dummies, senior.
local function features(i)
  local c, s = cols.Contract[i], cols.InternetService[i]
  return {1, tenure[i], monthly[i], c == "Month-to-month" and 1 or 0, c == "One year" and 1 or 0,
    s == "Fiber optic" and 1 or 0, s == "No" and 1 or 0,
    cols.PaymentMethod[i] == "Electronic check" and 1 or 0, tonumber(cols.SeniorCitizen[i]) or 0}
end
local X, train, test = {}, {}, {}
for i = 1, n do
  X[i] = features(i)
  if i % 5 == 0 then test[#test + 1] = i else train[#train + 1] = i end
end
local p = #X[1]
local mean, sd = {}, {}
for j = 2, p do -- standardize on the training rows
  local s, s2 = 0, 0
  for _, i in ipairs(train) do s = s + X[i][j]; s2 = s2 + X[i][j] ^ 2 end
  mean[j] = s / #train
  sd[j] = math.sqrt(math.max(s2 / #train - mean[j] ^ 2, 1e-12))
end
for i = 1, n do for j = 2, p do X[i][j] = (X[i][j] - mean[j]) / sd[j] end end

local function sigmoid(z) return 1 / (1 + math.exp(-z)) end
local w = {}
for j = 1, p do w[j] = 0 end
local history = {train_loss = {}, test_loss = {}}
local function loss(rows)
  local l = 0
  for _, i in ipairs(rows) do
    local z = 0
    for j = 1, p do z = z + w[j] * X[i][j] end
    local q = math.min(math.max(sigmoid(z), 1e-12), 1 - 1e-12)
    l = l - (churn[i] * math.log(q) + (1 - churn[i]) * math.log(1 - q))
  end
  return l / #rows
end
for it = 1, 60 do -- full-batch gradient descent with a fixed step: deterministic
  local g = {}
  for j = 1, p do g[j] = 0 end
  for _, i in ipairs(train) do
    local z = 0
    for j = 1, p do z = z + w[j] * X[i][j] end
    local e = sigmoid(z) - churn[i]
    for j = 1, p do g[j] = g[j] + e * X[i][j] end
  end
  for j = 1, p do w[j] = w[j] - 1.0 * g[j] / #train end
  if it % 3 == 0 then
    history.train_loss[#history.train_loss + 1] = loss(train)
    history.test_loss[#history.test_loss + 1] = loss(test)
  end
end
local ytest, ptest = {}, {}
for k, i in ipairs(test) do
  local z = 0
  for j = 1, p do z = z + w[j] * X[i][j] end
  ytest[k], ptest[k] = churn[i], sigmoid(z)
end
local _, _, auc = plot.roc_curve(ytest, ptest)

-- ---- the report --------------------------------------------------------------------------

local r = report.new{title = "Telco churn at a glance", out = out,
  subtitle = "Who leaves, when, and how well a simple model sees it coming."}

local churners, revenue_at_risk = 0, 0
for i = 1, n do
  churners = churners + churn[i]
  if churn[i] == 1 then revenue_at_risk = revenue_at_risk + monthly[i] end
end
r:metrics{
  {"Customers", n},
  {"Churn rate", string.format("%.1f%%", 100 * churners / n)},
  {"Monthly revenue lost", string.format("$%.0f", revenue_at_risk), note = "charges of churners"},
  {"Test AUC", string.format("%.3f", auc), note = "logistic regression, 1 row in 5 held out"},
}

r:h1("Churn by contract")
r:text(string.format([[
Month-to-month customers churn far more than those on one- or two-year contracts. The data has
**%d** customers (read with %s); *churn* means the customer left within the last month.]],
  n, reader))

local order = {"Month-to-month", "One year", "Two year"}
local count, left, charges = {}, {}, {}
for _, c in ipairs(order) do count[c], left[c], charges[c] = 0, 0, 0 end
for i = 1, n do
  local c = cols.Contract[i]
  if count[c] then
    count[c] = count[c] + 1
    left[c] = left[c] + churn[i]
    charges[c] = charges[c] + monthly[i]
  end
end
local rows = {{"Contract", "Customers", "Churned", "Churn rate", "Mean monthly charges"}}
local stay, gone = {}, {}
for k, c in ipairs(order) do
  rows[#rows + 1] = {c, count[c], left[c], left[c] / count[c], charges[c] / count[c]}
  stay[k], gone[k] = count[c] - left[c], left[c]
end
r:table(rows, {digits = 3, caption = "Customers and churn by contract type"})
if frame then -- the frame itself, as read (a few rows; wide tables scroll sideways)
  r:table(frame, {max_rows = 5, digits = 2, caption = "The first rows of the data"})
end
assert(r:figure(plot.bar{{values = stay, name = "stayed"}, {values = gone, name = "churned"},
  labels = order, stacked = true, ylabel = "customers", title = "Customers by contract"},
  {caption = "Stacked counts: most churners are on month-to-month contracts."}))

r:h1("Tenure")
local t_stay, t_gone = {}, {}
for i = 1, n do
  if churn[i] == 1 then t_gone[#t_gone + 1] = tenure[i] else t_stay[#t_stay + 1] = tenure[i] end
end
assert(r:figure(plot.hist{{values = t_stay, name = "stayed"}, {values = t_gone, name = "churned"},
  bins = 24, density = true, xlabel = "tenure (months)", ylabel = "density",
  title = "Tenure of customers who stayed and left"},
  {caption = "Churners are concentrated in the first months."}))

r:h1("A first model")
r:text([[
A logistic regression on tenure, monthly charges, contract, internet service, payment method and
age group, fitted by gradient descent on four rows in five and scored on the fifth:

- the ROC curve shows how well it ranks churners above stayers;
- the gains curve shows the share of churners reached when contacting the riskiest customers
  first.]])
assert(r:figure(plot.roc{{y = ytest, score = ptest, name = "logistic regression"},
  title = "ROC on held-out customers"}, {caption = "ROC curve (test rows)."}))
local frac, gain = plot.gains_curve(ytest, ptest)
local reach = 0
for k = 1, #frac do if frac[k] <= 0.2 then reach = gain[k] end end
assert(r:figure(plot.gains{{y = ytest, score = ptest, name = "logistic regression"},
  title = "Cumulative gains"}, {caption = string.format(
  "Contacting the riskiest 20%% of customers reaches %.0f%% of the churners.", 100 * reach)}))
assert(r:figure(plot.history(history, {best = "min", ylabel = "log loss",
  xlabel = "iteration / 3", title = "Training curve"}), {caption = "Log loss while fitting."}))

local names = {"tenure", "MonthlyCharges", "Contract=Month-to-month", "Contract=One year",
  "InternetService=Fiber optic", "InternetService=No", "PaymentMethod=Electronic check",
  "SeniorCitizen"}
local coef = {}
for j = 2, p do coef[#coef + 1] = {names[j - 1], w[j]} end
r:table(coef, {columns = {"feature", "coefficient (standardized)"}, digits = 3,
  caption = "Model coefficients: positive values raise the churn risk"})
r:code("churnlab scripts/report_demo.lua " .. out)

local path = assert(r:save())
assert(r:save{format = "md"})
local dir = path:match("^(.*)/[^/]*$") or "."
report.index(dir)
print(path)
