-- churnlab.util.files: small file helpers shared by churnlab's Lua modules and notebooks (one
-- copy instead of one per module). Internal: not re-exported as cl.<name>.
local M = {}

-- The whole file as a string, or nil when it cannot be opened (callers decide whether a missing
-- file is an error: plot probes gnuplot's output, report and the notebooks read optional files).
function M.read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return M
