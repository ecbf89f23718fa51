-- `lmp export-torch`: a live PyTorch module -> lmp's model JSON, by running
-- python/lmp_export_torch.py (the bundled exporter) under the system's Python.
-- lmp tells the exporter which classes have calculators and what each reads; the exporter
-- traces the model on the meta device and fits every shape as an exact formula; lmp then
-- loads what it wrote (so the file is valid), compares the parameter count with PyTorch's,
-- and names the classes that still need a calculator.
local core = require "lmp.core"
local json = require "lmp.json"
local paths = require "lmp.paths"
local registry = require "lmp.registry"
local util = require "lmp.util"

local export = {}

local SCRIPT = "python/lmp_export_torch.py"

-- the Python to run: LMP_PYTHON, else python3 on PATH, else Debian's /usr/bin/python3 when
-- only that one has torch (a virtualenv's python3 often has not)
function export.python()
  local function has_torch(py) return core.spawn_wait({ py, "-c", "import torch" }) == 0 end
  local chosen = util.env("LMP_PYTHON")
  if chosen then
    if not has_torch(chosen) then
      util.fail(("export-torch: LMP_PYTHON=%s cannot import torch (install torch there, or unset LMP_PYTHON)")
        :format(chosen))
    end
    return chosen
  end
  for _, py in ipairs({ "python3", "/usr/bin/python3" }) do
    if has_torch(py) then return py end
  end
  util.fail("export-torch: python3 has no torch (install python3-torch, e.g. apt-get install python3-torch, " ..
    "or set LMP_PYTHON to a Python that has it)")
end

-- { full class name = { parameter = has a default } } for every calculator on the path:
-- what the exporter may treat as a basic layer, and the parameters to give it
function export.known_classes()
  local known = {}
  local function add(name, calc)
    local params = {}
    for _, k in ipairs(calc.names) do params[k] = calc.required[k].default ~= nil end
    known[name] = params
  end
  for _, entry in ipairs(registry.list()) do
    if entry.full_class_name and not entry.shadowed_by and not entry.error then
      local calc = registry.get(entry.full_class_name)
      add(entry.full_class_name, calc)
      for _, alias in ipairs(type(calc.impl) == "table" and calc.impl.also or {}) do add(alias, calc) end
    end
  end
  return known
end

local function temp_file(text)
  local path = os.tmpname()
  if text then
    local ok, err = core.write_file_atomic(path, text)
    if not ok then util.fail("export-torch: " .. err) end
  end
  return path
end

-- run(opts) -> the model file's table, summary. opts: module | hf, input, args (list of NAME=VALUE)
function export.run(opts)
  local py = export.python()
  local script = temp_file(core.read_file(paths.home .. "/" .. SCRIPT))
  local known = temp_file(json.encode(export.known_classes()))
  local result = temp_file()
  local argv = { py, script, "--known", known, "--out", result }
  if opts.hf then
    argv[#argv + 1] = "--hf"
    argv[#argv + 1] = opts.hf
  else
    argv[#argv + 1] = opts.module
  end
  if opts.input then
    argv[#argv + 1] = "--input"
    argv[#argv + 1] = opts.input
  end
  for _, a in ipairs(opts.args or {}) do
    argv[#argv + 1] = "--arg"
    argv[#argv + 1] = a
  end
  local code = core.run(argv)
  local text = code == 0 and core.read_file(result) or nil
  os.remove(script)
  os.remove(known)
  os.remove(result)
  if code ~= 0 then
    -- the exporter printed its one-line reason; a traceback means a bug in it or the model
    util.fail(("export-torch: the exporter stopped (%s exited with %d)"):format(py, code))
  end
  local doc = core.json_decode(text)
  return doc.model, doc.summary
end

return export
