-- Where lmp finds things: its data folder (lmp.home), the user's data folder (generated
-- calculators and the module_db.json overlay) and the calculator search path.
local core = require "lmp.core"
local registry = require "lmp.registry"
local util = require "lmp.util"

local paths = {}

-- where the bundled data (module_db.json, modules_lua/, models/) lives: LMP_HOME, else
-- <prefix>/share/lmp beside the installed binary (or the checkout holding build/lmp), else
-- the source tree lmp was built from, else the copy compiled into the binary: the read-only
-- folder core.BUNDLED, "(bundled)", which LMP_HOME may also name
local function find_home()
  local function has_data(dir)
    return core.file_kind(dir .. "/module_db.json") == "file" and core.file_kind(dir .. "/modules_lua") == "directory"
  end
  local env = util.env("LMP_HOME")
  if env then
    if has_data(env) then return env end
    util.fail(("LMP_HOME=%s: no module_db.json and modules_lua/ there (unset LMP_HOME to use the data built into lmp)")
      :format(env))
  end
  local exe = core.exe_path()
  local bindir = exe and exe:match("^(.*)/[^/]*$")
  if bindir then
    for _, dir in ipairs({ bindir .. "/../share/lmp", bindir .. "/.." }) do
      if has_data(dir) then return (dir:gsub("/[^/]+/%.%.", "", 1)) end
    end
  end
  if core.source_dir ~= "" and has_data(core.source_dir) then return core.source_dir end
  return core.BUNDLED
end

paths.home = find_home()
paths.executable = core.exe_path()
paths.db_path = os.getenv("LMP_DB") or (paths.home .. "/module_db.json")

-- the user's data folder, where generated calculators and their db entries go:
-- $XDG_DATA_HOME/lmp (~/.local/share/lmp), holding modules/ and a module_db.json overlay
function paths.user_dir()
  return (util.env("XDG_DATA_HOME") or ((os.getenv("HOME") or ".") .. "/.local/share")) .. "/lmp"
end
function paths.user_module_dir() return paths.user_dir() .. "/modules" end
-- the user's module_db.json: its entries win over the bundled file's (lmp.db.effective)
function paths.user_db_path() return paths.user_dir() .. "/module_db.json" end

-- calculator search path, first match wins: `extra` (--modules DIR), LMP_PATH folders
-- (colon-separated), the user's folder, then the bundled modules_lua
function paths.set_module_paths(extra)
  local dirs = {}
  for _, dir in ipairs(extra or {}) do dirs[#dirs + 1] = dir end
  for dir in (os.getenv("LMP_PATH") or ""):gmatch("[^:]+") do dirs[#dirs + 1] = dir end
  dirs[#dirs + 1] = paths.user_module_dir()
  dirs[#dirs + 1] = paths.home .. "/modules_lua"
  registry.set_paths(dirs)
end
paths.set_module_paths()

return paths
