-- churnlab: the umbrella module. `local cl = require "churnlab"`.
--
-- Loads every churnlab.* module registered in package.preload (C bindings and the Lua
-- modules compiled into the executable) as cl.<name>, then adds the top-level shortcuts
-- analysts type most (cl.read_csv, cl.gbdt{...}). Requiring it has no side effects: no
-- globals, no processes, no files. Submodules never require "churnlab" itself (that would
-- be a cycle); they require each other by full name.
local cl = {}

local names = {}
for name in pairs(package.preload) do
  local short = name:match("^churnlab%.([%a][%w_]*)$")
  if short then names[#names + 1] = short end
end
table.sort(names)
for _, short in ipairs(names) do
  cl[short] = require("churnlab." .. short)
end

-- Shortcuts: cl.<alias> = cl.<module>.<field>, skipped when that module is not built.
local shortcuts = {
  -- core
  threads = {"core", "threads"}, load = {"core", "load"}, version = {"core", "version"},
  -- frames and preprocessing
  read_csv = {"frame", "read_csv"}, frame = {"frame", "new"},
  -- models
  logreg = {"linear", "logreg"}, mlp = {"mlp", "mlp"},
  gbdt = {"trees", "gbdt"}, forest = {"trees", "forest"}, tree = {"trees", "tree"},
  -- model selection
  cross_validate = {"model_selection", "cross_validate"},
  grid_search = {"model_selection", "grid_search"},
  random_search = {"model_selection", "random_search"},
  time_split = {"model_selection", "time_split"},
  -- recommendation
  interactions = {"rec", "interactions"},
}
for alias, path in pairs(shortcuts) do
  local mod = cl[path[1]]
  if cl[alias] == nil and type(mod) == "table" and mod[path[2]] ~= nil then
    cl[alias] = mod[path[2]]
  end
end

return cl
