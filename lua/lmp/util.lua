-- Helpers every lmp module shares: the usage error and reading the environment.
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

return util
