-- Hardware as data: the files of hardware/ (docs/hardware.md), found by name as calculators
-- are (the user's folder first, then the bundled ones) or read from a path, checked field by
-- field, with the efficiency defaults of the time model filled in.
local core = require "lmp.core"
local util = require "lmp.util"

local hardware = {}

-- the compute types a GEMM or an elementwise op can run in, widest first; a file names
-- the ones its part has in tensor_TFLOPS (matrix units) and vector_TFLOPS (the rest)
hardware.DTYPES = { "fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4" }
local DTYPE = {}
for _, d in ipairs(hardware.DTYPES) do DTYPE[d] = true end

-- the figures of a file: field, kind, whether required, unit and meaning (docs/hardware.md)
hardware.FIELDS = {
  { "memory_GiB", "number", true, "GiB", "memory capacity (the datasheet's GB of HBM is GiB)" },
  { "memory_GBps", "number", true, "GB/s", "peak memory bandwidth (10^9 bytes a second)" },
  { "tensor_TFLOPS", "dtypes", true, "TFLOP/s", "dense peak of the matrix units by compute type" },
  { "vector_TFLOPS", "dtypes", false, "TFLOP/s", "peak of the vector units (elementwise work) by type" },
  { "l2_MiB", "number", false, "MiB", "last-level cache" },
  { "compute_units", "number", false, "", "SMs / CUs" },
  { "gpu_link_GBps", "number", false, "GB/s", "GPU-to-GPU link (NVLink, xGMI, ICI), as the datasheet gives it" },
  { "host_link_GBps", "number", false, "GB/s", "host link (PCIe)" },
  { "network_GBps", "number", false, "GB/s", "network bandwidth per GPU" },
  { "power_W", "number", false, "W", "board power (TDP): energy per token is priced at it" },
  { "kernel_floor_us", "number", true, "us", "the least time any kernel takes" },
}
for _, f in ipairs(hardware.FIELDS) do hardware.FIELDS[f[1]] = f end

-- The time model's efficiencies (lmp.roofline): the fraction of a peak an operation class
-- reaches, the sharpness of the turn between the roofs, and the size at which a GEMM reaches
-- half its compute efficiency. Defaults (docs/hardware.md says where they come from); a file's
-- "efficiency" object overrides any of them, as `lmp calibrate` writes.
hardware.EFFICIENCY = {
  { "gemm_compute", 0.75, 0, 1, "fraction of the tensor peak a large GEMM reaches" },
  { "gemm_memory", 0.85, 0, 1, "fraction of the bandwidth a GEMM's weight and activation streams reach" },
  { "gemm_half_m", 0, 0, 1e6, "GEMM rows (tokens) at which compute efficiency is half its maximum; 0: none" },
  { "attention_compute", 0.6, 0, 1, "fraction of the tensor peak attention's matrix products reach" },
  { "attention_memory", 0.85, 0, 1, "fraction of the bandwidth attention's reads and writes reach" },
  { "elementwise_compute", 0.5, 0, 1, "fraction of the vector peak elementwise ops reach" },
  { "elementwise_memory", 0.85, 0, 1, "fraction of the bandwidth elementwise ops reach" },
  { "norm_memory", 0.6, 0, 1, "fraction of the bandwidth norms reach (two passes over a row)" },
  { "sharpness", 4, 1, 64, "p of t = (tc^p + tm^p)^(1/p): large is the plain max of the two roofs" },
}
for _, e in ipairs(hardware.EFFICIENCY) do hardware.EFFICIENCY[e[1]] = e end

-- the folders searched for NAME.json, first match wins: LMP_HW_PATH (colon-separated), the
-- user's folder, the bundled presets
function hardware.search_path()
  local paths = require "lmp.paths"
  local dirs = {}
  for dir in (os.getenv("LMP_HW_PATH") or ""):gmatch("[^:]+") do dirs[#dirs + 1] = dir end
  dirs[#dirs + 1] = paths.user_dir() .. "/hardware"
  dirs[#dirs + 1] = paths.home .. "/hardware"
  return dirs
end

local function positive(v) return type(v) == "number" and v == v and v > 0 and v < math.huge end

-- check(hw, where) -> hw with efficiencies filled in, or a one-line error naming the file and
-- the field
function hardware.check(hw, where)
  local function bad(field, what) util.fail(("%s: %s %s"):format(where, field, what)) end
  if type(hw) ~= "table" then bad("the file", "must hold a JSON object") end
  if type(hw.name) ~= "string" or not hw.name:match("^[%w][%w._-]*$") then
    bad("name", "must be a string of letters, digits, '.', '_' or '-'")
  end
  local sources = hw.sources
  if type(sources) ~= "table" then bad("sources", "must be an object naming where each figure comes from") end
  for key in pairs(hw) do
    if type(key) ~= "string" then bad("a key", "is not a string") end
    if not (hardware.FIELDS[key] or key == "name" or key == "title" or key == "vendor" or key == "sources" or
            key == "note" or key == "efficiency" or key == "calibration" or key == "file" or key == "checked") then
      bad(key, "is not a field of a hardware file (docs/hardware.md)")
    end
  end
  for _, f in ipairs(hardware.FIELDS) do
    local name, kind, required = f[1], f[2], f[3]
    local v = hw[name]
    if v == nil then
      if required then bad(name, "is missing") end
    else
      if kind == "number" and not positive(v) then bad(name, "must be a positive number") end
      if kind == "dtypes" then
        if type(v) ~= "table" or next(v) == nil then bad(name, "must be an object of compute type -> TFLOP/s") end
        for d, x in pairs(v) do
          if not DTYPE[d] then bad(name .. "." .. tostring(d), "is not a compute type (" .. table.concat(hardware.DTYPES, ", ") .. ")") end
          if not positive(x) then bad(name .. "." .. d, "must be a positive number") end
        end
      end
      if type(sources[name]) ~= "string" or sources[name] == "" then bad("sources." .. name, "is missing: cite where the figure comes from") end
    end
  end
  local eff = {}
  if hw.efficiency ~= nil and type(hw.efficiency) ~= "table" then bad("efficiency", "must be an object") end
  -- efficiency.classes: a calculator class's own compute and memory efficiencies (a kernel
  -- that reaches more or less of the roofs than its operation class: docs/hardware.md)
  local classes = (hw.efficiency or {}).classes
  if classes ~= nil then
    if type(classes) ~= "table" then bad("efficiency.classes", "must be an object of class -> { compute, memory }") end
    for cls, c in pairs(classes) do
      local at = "efficiency.classes." .. tostring(cls)
      if type(cls) ~= "string" or type(c) ~= "table" then bad(at, "must be an object { compute, memory }") end
      for k, v in pairs(c) do
        if k ~= "compute" and k ~= "memory" then bad(at .. "." .. tostring(k), "is not compute or memory") end
        if type(v) ~= "number" or not (v > 0 and v <= 1) then bad(at .. "." .. k, "must be a number in (0, 1]") end
      end
    end
  end
  for key, v in pairs(hw.efficiency or {}) do
    if key == "classes" then goto next end
    local e = hardware.EFFICIENCY[key]
    if not e then bad("efficiency." .. tostring(key), "is not an efficiency (docs/hardware.md)") end
    if type(v) ~= "number" or v ~= v or v < e[3] or v > e[4] or (e[3] == 0 and e[4] == 1 and v == 0) then
      bad("efficiency." .. key, ("must be a number in %s%g, %g]"):format(e[4] == 1 and "(" or "[", e[3], e[4]))
    end
    ::next::
  end
  for _, e in ipairs(hardware.EFFICIENCY) do
    local v = (hw.efficiency or {})[e[1]]
    eff[e[1]] = v == nil and e[2] or v
  end
  eff.classes = classes or {}
  hw.efficiency = eff
  hw.checked = true
  return hw
end

local function read(path)
  local text = core.read_file(path)
  return hardware.check(core.json_decode(text, path), path)
end

-- find(name) -> path of NAME.json on the search path, or nil
function hardware.find(name)
  for _, dir in ipairs(hardware.search_path()) do
    local path = dir .. "/" .. name .. ".json"
    if core.file_kind(path) == "file" then return path end
  end
end

-- load(name_or_file) -> a checked hardware table; a name is looked up on the search path, a
-- path (it has a '/' or ends in .json) is read as given
function hardware.load(spec)
  if type(spec) == "table" then
    if spec.checked then return spec end -- loaded already (lmp.hardware's result)
    return hardware.check(spec, spec.name or "hardware")
  end
  if type(spec) ~= "string" or spec == "" then util.fail("hardware: expected a preset name or a file") end
  if spec:find("/", 1, true) or spec:match("%.json$") then
    if core.file_kind(spec) ~= "file" then util.fail(("%s: no such hardware file"):format(spec)) end
    local hw = read(spec)
    hw.file = spec
    return hw
  end
  local path = hardware.find(spec)
  if not path then
    local names = {}
    for _, h in ipairs(hardware.list()) do names[#names + 1] = h.name end
    util.fail(("hardware '%s' is not a preset (%s) or a file; `lmp hw list` shows them"):format(spec, table.concat(names, ", ")))
  end
  local hw = read(path)
  hw.file = path
  if hw.name ~= spec then util.fail(("%s: name is '%s', but the file is found as '%s'"):format(path, hw.name, spec)) end
  return hw
end

-- list() -> { { name=, title=, path=, origin= }, ... } sorted by name, the first of each name
-- on the search path
function hardware.list()
  local out, seen = {}, {}
  local dirs = hardware.search_path()
  for k, dir in ipairs(dirs) do
    local origin = k == #dirs and "bundled" or dir
    for _, file in ipairs(core.listdir(dir) or {}) do
      local name = file:match("^(.+)%.json$")
      if name and not seen[name] then
        seen[name] = true
        local ok, hw = pcall(read, dir .. "/" .. file)
        out[#out + 1] = { name = name, path = dir .. "/" .. file, origin = origin, hw = ok and hw or nil,
                          error = not ok and tostring(hw) or nil }
      end
    end
  end
  table.sort(out, function (a, b) return a.name < b.name end)
  return out
end

return hardware
