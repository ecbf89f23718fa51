-- The registry: full class name <-> db key <-> calculator file, over a search path of
-- folders (user folders first, the bundled modules_lua last). Calculators are loaded once,
-- in the sandbox, and cached.
local core = require "lmp.core"

local registry = { paths = {} }

local loaded = {}   -- file path -> calculator object
local inline = {}   -- full class name -> calculator object registered from a script
local found = {}    -- name -> calculator object or false: find()'s answers, until the path changes

-- "torch.nn.modules.linear.Linear" -> "torch_Linear"
function registry.key_of(full_class_name)
  local library = full_class_name:match("^([^.]+)%.")
  local last = full_class_name:match("([^.]+)$")
  if not library or not last or last == "" then return nil end
  return library .. "_" .. last
end

-- "transformers_LlamaRMSNorm" -> "transformers_llama_rms_norm": an underscore before a
-- capital that follows a lower-case letter, or that follows a capital or digit and is
-- followed by a lower-case letter.
function registry.snake_case(key)
  local out = {}
  for i = 1, #key do
    local c = key:sub(i, i)
    local prev, nxt = key:sub(i - 1, i - 1), key:sub(i + 1, i + 1)
    if i > 1 and c:match("%u") and prev ~= "_"
        and (prev:match("%l") or (prev:match("[%u%d]") and nxt:match("%l"))) then
      out[#out + 1] = "_"
    end
    out[#out + 1] = c:lower()
  end
  return table.concat(out)
end

-- The public names PyTorch exports a class under, besides its full path: every class of
-- torch.nn.modules.<mod> is torch.nn.<Cls> and torch.nn.modules.<Cls> (torch/nn/__init__.py
-- imports * from .modules); transformers exports a few utility classes at its top level.
-- These share the full path's db key, so the same calculator file answers them.
local TRANSFORMERS_TOP_LEVEL = { ["transformers.pytorch_utils.Conv1D"] = true, ["transformers.cache_utils.StaticCache"] = true }
function registry.exported_names(full_class_name)
  local cls = full_class_name:match("^torch%.nn%.modules%.[%w_]+%.([%w_]+)$")
  if cls then return { "torch.nn." .. cls, "torch.nn.modules." .. cls } end
  if TRANSFORMERS_TOP_LEVEL[full_class_name] then return { "transformers." .. full_class_name:match("([^.]+)$") } end
  return {}
end

-- aliases() -> { public name = full class name } for every calculator on the path
function registry.aliases()
  local out = {}
  for _, entry in ipairs(registry.list()) do
    if entry.full_class_name and not entry.shadowed_by then
      for _, alias in ipairs(registry.exported_names(entry.full_class_name)) do out[alias] = entry.full_class_name end
    end
  end
  return out
end

local function is_exported_name(name, full_class_name)
  for _, alias in ipairs(registry.exported_names(full_class_name)) do
    if alias == name then return true end
  end
  return false
end

function registry.file_of(name)
  local key = name:find(".", 1, true) and registry.key_of(name) or name
  if not key then return nil end
  return registry.snake_case(key) .. ".lua", key
end

function registry.set_paths(paths)
  registry.paths = paths
  loaded, found = {}, {}
end

-- register(calc): a calculator object made from a script's table; it takes precedence over
-- every file on the path for its class
function registry.register(calc)
  inline[calc.full_class_name] = calc
  found = {}
end

function registry.unregister(full_class_name)
  inline[full_class_name] = nil
  found = {}
end

-- An alias file ({ full_class_name = X, same_as = Y }) stands for Y's calculator under X's
-- name: families that copy a module ("Copied from ...LlamaRMSNorm") share one calculator.
local function resolve_alias(calc, depth)
  if not calc.same_as then return calc end
  if depth > 8 then core.error(core.EXIT.CALC, calc.file .. ": same_as chain longer than 8") end
  local target = registry.find(calc.same_as)
  if not target then
    core.error(core.EXIT.CALC, ("%s: same_as names %s, which has no calculator"):format(calc.file, calc.same_as))
  end
  target = resolve_alias(target, depth + 1)
  return core.calculator_alias(target, calc.full_class_name, calc.file, calc.same_as)
end

local function load(path)
  local calc = loaded[path]
  if not calc then
    calc = core.load_calculator(path)
    -- a generated calculator counts only with its db entry (lmp.db: incomplete)
    local why = require("lmp.db").incomplete(path, calc.full_class_name)
    if why then core.error(core.EXIT.CALC, why) end
    calc = resolve_alias(calc, 0)
    loaded[path] = calc
  end
  return calc
end

-- find(name) -> calculator object, or nil and the list of places searched.
-- name is a full class name or a db key. Answers are remembered (the walk asks for every
-- basic layer of every analysis); set_paths and register forget them.
local search
function registry.find(name)
  local hit = found[name]
  if hit ~= nil then
    if hit then return hit end
    return nil, {}
  end
  local calc, searched = search(name)
  if calc then found[name] = calc end -- a miss is not remembered: the file may appear later
  return calc, searched
end

function search(name)
  local file, key = registry.file_of(name)
  if not file then
    core.error(core.EXIT.USAGE, ("'%s' is neither a full class name (library.module.Class) nor a db key (library_Class)"):format(name))
  end
  if inline[name] then return inline[name] end
  for full, calc in pairs(inline) do
    if registry.key_of(full) == key then return calc end
  end
  local searched = {}
  for _, dir in ipairs(registry.paths) do
    local path = dir .. "/" .. file
    if core.file_kind(path) == "file" then
      local calc = load(path)
      local full = name:find(".", 1, true) and name or nil
      if full and calc.full_class_name ~= full and type(calc.impl) == "table" and type(calc.impl.also) == "table" then
        -- classes that share the key and the computation (the same function copied into
        -- several modules) are listed in the calculator's `also`
        for _, other in ipairs(calc.impl.also) do
          if other == full then return core.calculator_alias(calc, full) end
        end
      end
      if full and calc.full_class_name ~= full and is_exported_name(full, calc.full_class_name) then
        return calc -- torch.nn.Linear: the class itself, under its full path
      end
      if full and calc.full_class_name ~= full then
        -- two classes can share a key (same library, same last name): say so
        core.error(core.EXIT.CALC, ("%s is the calculator for %s, not %s (they share the key %s)")
          :format(path, calc.full_class_name, full, key))
      end
      return calc
    end
    searched[#searched + 1] = path
  end
  return nil, searched
end

-- find() that raises a clear error when there is no calculator
function registry.get(name)
  local calc, searched = registry.find(name)
  if not calc then
    core.error(core.EXIT.USAGE, ("no calculator for %s (looked for %s)"):format(name, table.concat(searched, ", ")))
  end
  return calc
end

-- lookup(full_class_name) -> calculator or nil: what the walk uses
function registry.lookup(full_class_name)
  return (registry.find(full_class_name))
end

-- list() -> every calculator file on the path, first occurrence wins:
--   { {file=, dir=, key=, full_class_name=, shadowed_by=?, error=?}, ... } sorted by key
function registry.list()
  local seen, out = {}, {}
  for _, dir in ipairs(registry.paths) do
    for _, name in ipairs(core.listdir(dir) or {}) do
      if name:match("%.lua$") then
        local path = dir .. "/" .. name
        local entry = { file = path, dir = dir }
        local ok, calc = pcall(load, path)
        if ok then
          entry.full_class_name = calc.full_class_name
          entry.key = registry.key_of(calc.full_class_name)
          if registry.snake_case(entry.key or "") .. ".lua" ~= name then
            entry.error = ("file name should be %s.lua for %s"):format(registry.snake_case(entry.key or "?"), calc.full_class_name)
          end
        else
          entry.error = tostring(calc)
          entry.key = name:gsub("%.lua$", "")
        end
        if seen[name] then entry.shadowed_by = seen[name] else seen[name] = path end
        out[#out + 1] = entry
      end
    end
  end
  for full, calc in pairs(inline) do
    out[#out + 1] = { file = calc.file, dir = "(registered in a script)", key = registry.key_of(full), full_class_name = full }
  end
  table.sort(out, function (a, b)
    if a.key ~= b.key then return (a.key or "") < (b.key or "") end
    return a.file < b.file
  end)
  return out
end

return registry
