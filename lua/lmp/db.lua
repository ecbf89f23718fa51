-- module_db.json: loading, the effective database (the bundled file overlaid by the user's),
-- and the check that every entry's formulas agree with its Lua calculator on sample
-- parameters (`lmp db check`).
local core = require "lmp.core"
local registry = require "lmp.registry"
local paths = require "lmp.paths"
local util = require "lmp.util"

local db = {}

-- the formula fields of an entry, and the calculator figure each must equal, from
-- core.CALL_FIGURES (optional ones are checked when the entry has them)
db.FORMULAS = {}
for _, f in ipairs(core.CALL_FIGURES) do
  local section, field = f.db_formula:match("^([%w_]+)%.([%w_]+)$")
  db.FORMULAS[#db.FORMULAS + 1] = { section, field, f.name, optional = f.db_optional or nil }
end

function db.load(path)
  local entries = core.json_decode(core.read_file(path), path)
  if type(entries) ~= "table" then util.fail(path .. ": expected an object of entries") end
  for k in pairs(entries) do
    if type(k) ~= "string" then util.fail(path .. ": expected an object of entries, not an array") end
  end
  return entries
end

-- the most parameter tables a calculator's sample_parameters() may give `db check`,
-- `module check` and generate (each costs one call's budget)
db.MAX_SAMPLES = 32

-- entry_problem(entry) -> a one-line problem with the entry's shape (the fields check_entry
-- reads), or nil: flop_analysis.parameters must be a list of { name = "..." } objects
function db.entry_problem(entry)
  if type(entry) ~= "table" then return "the entry is not a JSON object" end
  if entry.same_as ~= nil and type(entry.same_as) ~= "string" then return "same_as must be a full class name" end
  local fa = entry.flop_analysis
  if fa == nil then return nil end
  if type(fa) ~= "table" then return "flop_analysis must be an object" end
  if fa.parameters == nil then return nil end
  if type(fa.parameters) ~= "table" then return "flop_analysis.parameters must be a list" end
  for i, p in ipairs(fa.parameters) do
    if type(p) ~= "table" or type(p.name) ~= "string" or p.name == "" then
      return ("flop_analysis.parameters[%d] must be an object with a name, got %s"):format(i,
        type(p) == "table" and "an object without one" or (type(p) == "string" and ("%q"):format(p:sub(1, 40)) or tostring(p)))
    end
  end
  return nil
end

-- effective() -> entries, origin: the database lmp uses, the bundled file (paths.db_path)
-- overlaid by the user's (paths.user_db_path(), where generated entries go: its entries win);
-- origin[key] is the file each entry came from. A file that does not exist adds nothing.
function db.effective()
  local entries, origin = {}, {}
  for _, path in ipairs({ paths.db_path, paths.user_db_path() }) do
    if core.file_kind(path) == "file" then
      for k, v in pairs(db.load(path)) do entries[k], origin[k] = v, path end
    end
  end
  return entries, origin
end

-- Deterministic sample values from a calculator's parameter specs: a few shapes per entry,
-- odd sizes included so that ceil() in byte formulas is exercised.
local INTS = { 1, 3, 64, 257, 4096, 11 }
local BITS = { 16, 4, 8, 32, 16, 4 }
local function generate_samples(calc, count)
  local samples = {}
  for s = 1, count do
    local p = {}
    for i, name in ipairs(calc.names) do
      local spec = calc.required[name]
      if spec.type == "bool" then
        -- bit i of the sample number, so neighbouring booleans take every combination
        p[name] = ((s - 1) >> ((i - 1) % 3)) & 1 == 1
      elseif spec.type == "string" then
        local values = type(spec.values) == "table" and #spec.values > 0 and spec.values or { "x" }
        p[name] = values[(s + i) % #values + 1]
      elseif spec.type == "number" then
        p[name] = 0.5 * s
      else
        local list = name:match("bits$") and BITS or INTS
        local v = list[(s + i) % #list + 1]
        -- (bounds that are not integers are ignored here; validation reports them)
        if math.type(spec.min) == "integer" and v < spec.min then v = spec.min end
        if math.type(spec.max) == "integer" and v > spec.max then v = spec.max end
        p[name] = v
      end
    end
    samples[#samples + 1] = p
  end
  return samples
end

local function describe(p)
  local keys = {}
  for k in pairs(p) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(p[k]) end
  return table.concat(parts, " ")
end

-- one_line(problem) -> the problem with its control characters as spaces: problems quote
-- what a calculator or an LLM wrote (sample values, parameter names), and are printed
-- (`lmp db check`, the refused rounds of `lmp generate`) one a line, without escapes
function db.one_line(msg) return (tostring(msg):gsub("%c", " ")) end

-- check_entry(entries, key [, calc [, extra_samples]]) -> list of problems (empty when the
-- entry is consistent), number of samples. calc: the calculator object to check against
-- (default: the one the registry finds for key); extra_samples: parameter tables checked too.
function db.check_entry(entries, key, calc, extra_samples)
  local entry, problems = entries[key], {}
  local function problem(msg) problems[#problems + 1] = db.one_line(msg) end
  if not calc then
    local ok, found = pcall(registry.find, key)
    if not ok then problem(tostring(found)) return problems end
    if not found then problem("no calculator file " .. (registry.file_of(key))) return problems end
    calc = found
  end
  local shape = db.entry_problem(entry)
  if shape then problem(shape) return problems end
  if entry.same_as ~= nil or calc.same_as ~= nil then
    -- an alias: the calculator file and the entry must name the same target, which is
    -- checked under its own key
    if entry.same_as ~= calc.same_as then
      problem(("same_as: the entry says %s, the calculator %s"):format(tostring(entry.same_as), tostring(calc.same_as)))
    elseif entry.full_class_name ~= calc.full_class_name then
      problem(("full_class_name %s differs from the calculator's %s"):format(tostring(entry.full_class_name), calc.full_class_name))
    elseif not entries[registry.key_of(entry.same_as) or ""] then
      problem(("same_as names %s, which has no entry"):format(entry.same_as))
    end
    return problems, 0
  end
  if entry.full_class_name ~= calc.full_class_name then
    problem(("full_class_name %s differs from the calculator's %s"):format(tostring(entry.full_class_name), calc.full_class_name))
  end
  if registry.key_of(calc.full_class_name) ~= key then
    problem(("key should be %s for %s"):format(tostring(registry.key_of(calc.full_class_name)), calc.full_class_name))
  end
  -- the entry's parameter list and the calculator's required_parameters must agree
  local listed = {}
  local fa = type(entry.flop_analysis) == "table" and entry.flop_analysis or {}
  for _, p in ipairs(type(fa.parameters) == "table" and fa.parameters or {}) do
    listed[p.name] = true
    if not calc.required[p.name] then problem(("parameter %s is listed but the calculator does not take it"):format(p.name)) end
  end
  for _, name in ipairs(calc.names) do
    if not listed[name] then problem(("the calculator takes %s but the entry does not list it"):format(name)) end
  end
  for _, section in ipairs({ "code_location", "memory_analysis", "params_analysis" }) do
    if type(entry[section]) ~= "table" then problem("missing " .. section) end
  end
  if type(fa.thinking_process) ~= "string" then problem("missing flop_analysis.thinking_process") end
  if #problems > 0 then return problems end

  local samples
  if calc.impl.sample_parameters then
    local ok_s, got = pcall(core.call_calculator, calc, "sample_parameters")
    if not ok_s or type(got) ~= "table" or #got == 0 then
      problem("sample_parameters() must return a list of parameter tables" .. (ok_s and "" or (": " .. tostring(got))))
      return problems
    end
    if #got > db.MAX_SAMPLES then
      problem(("sample_parameters() returned %d parameter tables; at most %d are checked"):format(#got, db.MAX_SAMPLES))
      return problems
    end
    for i, sample in ipairs(got) do
      if type(sample) ~= "table" then
        problem(("sample_parameters()[%d] is a %s, not a parameter table"):format(i, type(sample)))
        return problems
      end
    end
    samples = got
  else
    samples = generate_samples(calc, 6)
  end
  for _, extra in ipairs(extra_samples or {}) do samples[#samples + 1] = extra end
  for _, sample in ipairs(samples) do
    local ok_c, fig = pcall(core.compute, calc, sample, type(entry.backward_analysis) == "table")
    if not ok_c then
      problem(("calculator fails on sample {%s}: %s"):format(describe(sample), tostring(fig)))
    else
      for _, f in ipairs(entry.no_formulas and {} or db.FORMULAS) do -- no_formulas: a calculator checked alone
        local section, field, figure = f[1], f[2], f[3]
        local formula = type(entry[section]) == "table" and entry[section][field]
        if not formula and f.optional then -- luacheck: ignore (nothing to check)
        elseif type(formula) ~= "string" then
          problem(("missing %s.%s"):format(section, field))
        else
          local depth = 0
          -- {Other} is the other entry's formula of the same field, with the same parameters
          local function resolve(name)
            local dep = entries[name]
            depth = depth + 1
            if depth > 16 then core.error(core.EXIT.CHECK, "{" .. name .. "}: references nested too deeply") end
            if type(dep) ~= "table" or type(dep[section]) ~= "table" or type(dep[section][field]) ~= "string" then
              core.error(core.EXIT.CHECK, ("{%s}: no %s.%s in module_db.json"):format(name, section, field))
            end
            local v = core.eval(dep[section][field], sample, resolve)
            depth = depth - 1
            return v
          end
          local ok_e, value = pcall(core.eval, formula, sample, resolve)
          if not ok_e then
            problem(("%s.%s: %s"):format(section, field, tostring(value)))
          elseif value ~= fig[figure] then
            problem(("%s.%s gives %s but the calculator's %s gives %s for {%s}")
              :format(section, field, tostring(value), figure, tostring(fig[figure]), describe(sample)))
          end
        end
      end
    end
    if #problems > 0 then break end
  end
  return problems, #samples
end

-- the order entries are written in (module_db.json stays readable and diffs stay small)
db.KEY_ORDER = { "full_class_name", "generated", "code_location", "file", "line_start", "flop_analysis",
  "thinking_process", "parameters", "name", "type", "description", "calculation_formula",
  "matmul_calculation_formula", "module_depends", "params_analysis", "memory_analysis",
  "reads_calculation_formula", "writes_calculation_formula", "intermediates_calculation_formula",
  "weights_calculation_formula", "state_calculation_formula", "backward_analysis" }

function db.encode(entries)
  return require("lmp.json").encode(entries, { indent = 2, order = db.KEY_ORDER,
    arrays = { parameters = true, module_depends = true } }) .. "\n"
end

-- add(path, key, entry): adds (or replaces) one entry, holding a lock on path .. ".lock" so
-- that a second lmp cannot interleave, and writing the whole file atomically
-- (opts.locked: the caller already holds the lock)
function db.add(path, key, entry, opts)
  local lock
  if not (opts and opts.locked) then
    local err
    lock, err = core.lock_file(path .. ".lock")
    if not lock then util.fail(err) end
  end
  local entries = core.file_kind(path) == "file" and db.load(path) or {}
  entries[key] = entry
  local ok, werr = core.write_file_atomic(path, db.encode(entries))
  if lock then lock:release() end
  if not ok then util.fail(werr) end
end

-- A generated calculator and its entry are one unit: the calculator's second line names an
-- id (GENERATED_ID) that its entry's generated.id repeats. The calculator is written first,
-- the entry last; until the entry is there (a kill -9 or a full disk in between), the
-- calculator is incomplete: analyze refuses it and lmp generate redoes it without --force.
db.GENERATED_ID = "-- lmp entry id: "

-- incomplete(path, full_class_name) -> nil when the calculator at path is complete (not
-- generated, or generated with its entry in the effective database), else why not
function db.incomplete(path, full_class_name)
  local f = io.open(path)
  local head = f and f:read(512) or ""
  if f then f:close() end
  if not head:match("^%-%- Generated by lmp ") then return nil end
  local id = head:match("^[^\n]*\n" .. db.GENERATED_ID:gsub("%p", "%%%0") .. "(%w+)")
  local key = registry.key_of(full_class_name or "") or "?"
  local ok, entries = pcall(db.effective)
  local entry = ok and entries[key]
  local gen = type(entry) == "table" and entry.generated
  if type(entry) == "table" and (id == nil or (type(gen) == "table" and gen.id == id)) then return nil end
  return ("%s is an incomplete generated calculator: %s (lmp generate was interrupted); " ..
    "`lmp generate --full-class-name %s` writes both again"):format(path,
    not ok and ("the database does not load: " .. tostring(entries))
      or entry and ("the %s entry is another generation's"):format(key)
      or ("its entry %s is in neither %s nor %s"):format(key, paths.db_path, paths.user_db_path()),
    tostring(full_class_name))
end

-- check([path]) -> { {key=, problems={...}, samples=n, origin=file}, ... } for every entry, in
-- key order: of the file path, or without it of the effective database (db.effective)
function db.check(path)
  local entries, origin
  if path then entries = db.load(path) else entries, origin = db.effective() end
  local keys = {}
  for k in pairs(entries) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, key in ipairs(keys) do
    local problems, n = db.check_entry(entries, key)
    out[#out + 1] = { key = key, problems = problems, samples = n or 0, origin = origin and origin[key] or path,
                      same_as = type(entries[key]) == "table" and entries[key].same_as or nil }
  end
  return out
end

return db
