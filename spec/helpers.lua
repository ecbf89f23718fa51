-- Shared helpers for the specs. Specs run inside the lmp host from the repository root:
--   ./build/lmp /usr/bin/busted --ignore-lua spec
local lmp = require "lmp"

local helpers = {}

helpers.exe = os.getenv("LMP_EXE") or lmp.executable

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- run(args...) -> stdout, stderr, exit code of `lmp args...`
function helpers.run(...)
  local parts = { shell_quote(helpers.exe) }
  for _, a in ipairs({ ... }) do parts[#parts + 1] = shell_quote(a) end
  local errfile = os.tmpname()
  local p = io.popen(table.concat(parts, " ") .. " 2>" .. errfile)
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile)
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return out, err, code
end

-- write(text [, suffix]) -> path of a temporary file holding text
function helpers.write(text, suffix)
  local path = os.tmpname() .. (suffix or ".json")
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- model(layers_json) -> path of a model file with those layers
function helpers.model(layers_json)
  return helpers.write('{"model_id": "spec/model", "layers": ' .. layers_json .. '}')
end

-- error_of(fn, ...) -> the lmp.Error raised by fn (fails the spec when none is raised)
function helpers.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got none")
  return err
end

helpers.fixtures = "spec/fixtures"

return helpers
