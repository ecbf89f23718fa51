-- Helpers lmp's modules share: the usage error, reading the environment, listing choices.
local core = require "lmp.core"

local util = {}

-- fail(msg): raise a usage error (exit 2), one line
function util.fail(msg) core.error(core.EXIT.USAGE, msg) end

-- env(name) -> the variable's value, nil when unset or empty
function util.env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

-- env_int(name, default) -> the variable as an integer, default when unset or not one
function util.env_int(name, default)
  return math.tointeger(tonumber(util.env(name) or "")) or default
end

-- either({ "a", "b", "c" }) -> "a, b or c"
function util.either(names)
  if #names < 2 then return names[1] or "" end
  return table.concat(names, ", ", 1, #names - 1) .. " or " .. names[#names]
end

return util
