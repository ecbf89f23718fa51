-- lmp: the Lua API. `require "lmp"` in any script; preloaded as the global `lmp` in
-- `lmp script.lua`. Everything the CLI does goes through these functions.
local core = require "lmp.core"
local registry = require "lmp.registry"
local paths = require "lmp.paths"
local inputs = require "lmp.inputs"
local results = require "lmp.result"
local util = require "lmp.util"
local timing = require "lmp.timing"
local hardware = require "lmp.hardware"
require "lmp.kernels" -- adds the Lua-written kernels before any calculator loads

local fail = util.fail

local lmp = {
  version = core.version,
  EXIT = core.EXIT,
  null = core.null,
  core = core,
  registry = registry,
  kernels = core.kernels,
  -- where lmp finds things (lmp.paths)
  home = paths.home,
  executable = paths.executable,
  db_path = paths.db_path,
  user_dir = paths.user_dir,
  user_module_dir = paths.user_module_dir,
  user_db_path = paths.user_db_path,
  set_module_paths = paths.set_module_paths,
  -- the runtime inputs (lmp.inputs): lmp.inputs(given) -> inputs with defaults filled and
  -- every value checked
  DEFAULT_INPUTS = inputs.DEFAULTS,
  inputs = inputs.check,
  Result = results.Result,
  Node = results.Node,
  -- hardware (lmp.hardware): lmp.hardware(name_or_file) -> the checked table; the presets
  hardware = hardware.load,
  hardware_list = hardware.list,
}

-- load_model(path) -> model (JSON file in the standard model format)
function lmp.load_model(path)
  if type(path) ~= "string" then fail("load_model: expected a file path") end
  return core.load_model(path)
end

-- load_model_string(json_text [, name]) -> model
function lmp.load_model_string(text, name)
  return core.load_model_string(text, name or "(string)")
end

-- ---- models from Hugging Face configs ----

local json = require "lmp.json"

-- the key order of exported model files, so that they read top-down
local MODEL_KEY_ORDER = { "model_id", "encoder_only", "attention", "name", "class", "repeat", "active", "weights_tied_to", "note",
                          "parameters", "config", "sub_layers", "layers" }

-- model_json(model_table) -> the standard model JSON text (pretty, exact integers)
function lmp.model_json(model)
  return json.encode(model, { indent = 2, order = MODEL_KEY_ORDER }) .. "\n"
end

-- read_config(path) -> config table, source name. path: a config.json or a folder holding one
function lmp.read_config(path)
  if type(path) ~= "string" then fail("read_config: expected a path") end
  if core.file_kind(path) == "directory" then path = path:gsub("/+$", "") .. "/config.json" end
  return core.json_decode(core.read_file(path), path), path
end

-- build(config_table [, opts]) -> model table (opts.source names the config in errors)
function lmp.build(config, opts)
  return require("lmp.builders").build(config, opts)
end

-- load_config(path [, opts]) -> model built from a config.json (or a folder holding one)
function lmp.load_config(path, opts)
  local config, source = lmp.read_config(path)
  local o = { source = source }
  for k, v in pairs(opts or {}) do o[k] = v end
  if not o.model_id then -- a Hugging Face cache snapshot names its model in its path
    local org, name = source:match("models%-%-([^/]-)%-%-([^/]+)/snapshots/")
    o.model_id = org and (org .. "/" .. name) or nil
  end
  if not o.model_id and type(config._name_or_path) ~= "string" then o.model_id = source end
  local model = lmp.build(config, o)
  return core.load_model_string(lmp.model_json(model), source), model
end

-- load(path) -> model: a model JSON file, a config.json, or a folder holding a config.json
-- (a model file has "layers"; a config has "model_type")
function lmp.load(path)
  if core.file_kind(path) == "directory" then return lmp.load_config(path) end
  local ok, decoded = pcall(core.json_decode, core.read_file(path), path)
  if ok and type(decoded) == "table" and decoded.model_type ~= nil and decoded.layers == nil then
    return lmp.load_config(path)
  end
  return lmp.load_model(path)
end

-- load_model_id(id [, opts]) -> model: a bundled model by its model_id (offline: it is
-- the published config, built), else, or with opts.revision, the config.json of a Hugging
-- Face model id from the local cache or the Hub (lmp.hub), built by the family's builder
function lmp.load_model_id(id, opts)
  local hub = require "lmp.hub"
  local bundled = type(id) == "string" and not (opts and opts.revision) and hub.bundled(id)
  if bundled then return lmp.load_model(bundled.path) end
  local path, source = hub.config_path(id, opts and opts.revision)
  local o = { model_id = id, config_source = source }
  for k, v in pairs(opts or {}) do o[k] = v end
  return lmp.load_config(path, o)
end

-- analyze(model_or_path, inputs, opts) -> result
--   result.totals   { flops, matmul_flops, params, active_params, reads_bytes, writes_bytes,
--                     intermediates_bytes, weight_bytes, state_bytes, peak_activation_bytes
--                     [, backward_flops, backward_matmul_flops in training] }
--   result.footprint  memory held: weights, KV cache, peak activations (and in training
--                     gradients, optimizer state, saved activations); see lmp.footprint
--   result.tree     nested nodes { name, class, repeat, path, <figures>, children | parameters }
--   result.unknown_modules  { {class=, count=}, ... }; result.complete is false when not empty
-- Figures are exact Lua integers (an exact decimal string past 2^63-1).
-- opts.depth limits the levels materialised in result.tree.
-- a model file with no decode step (its encoder_only: BERT, and lmp export-torch's traces of one
-- forward) keeps no KV cache and generates nothing: a decode step, a prefill after cached tokens
-- and generate are refused, naming both
local function check_encoder_only(model, phase, kv_len)
  if not model.encoder_only or (phase ~= "decode" and phase ~= "generate" and kv_len == 0) then return end
  local what = phase == "prefill" and ("a prefill after %d cached tokens"):format(kv_len) or ("phase " .. phase)
  core.error(core.EXIT.USAGE, ("%s has no decode step (encoder_only: no KV cache, nothing to generate): %s does not " ..
    "apply to it, only prefill and train"):format(model.model_id or model.file, what))
end

-- opts.hw (a name, file or hardware table, or a list of them) adds the time on each:
-- node.time[name] on every node and result.timing (lmp.timing); opts.gpus: the fit verdict's
-- device count (default 1).
-- a model file's "attention" (the implementation its transformers class runs) is the default
-- of the attention input
local function with_model_defaults(model, given)
  if model.attention == nil or (given or {}).attention ~= nil then return given end
  local out = { attention = model.attention }
  for k, v in pairs(given or {}) do out[k] = v end
  return out
end

function lmp.analyze(model, given, opts)
  if type(model) == "string" then model = lmp.load_model(model) end
  given = with_model_defaults(model, given)
  local checked = inputs.check(given)
  check_encoder_only(model, checked.phase, checked.kv_len)
  opts = opts or {}
  local hws = timing.hardware_list(opts)
  local walk_opts = opts
  if #hws > 0 and opts.depth then -- every basic layer is priced: walk them all, then cut the tree
    walk_opts = {}
    for k, v in pairs(opts) do if k ~= "depth" then walk_opts[k] = v end end
  end
  local raw = core.analyze(model, checked, registry.lookup, walk_opts)
  table.sort(raw.unknown_modules, function (a, b) return a.class < b.class end)
  raw.model_id = model.model_id or model.file
  raw.inputs = checked
  for _, row in ipairs(core.INPUTS) do -- image_size: in the report of a model that reads it (or when given)
    if row.when_used and not raw.inputs_used[row.name] and (given or {})[row.name] == nil then
      raw.inputs[row.name] = nil
    end
    raw.inputs[row.name] = inputs.name(row.name, raw.inputs[row.name]) -- attention: its name
  end
  raw.footprint = require("lmp.phases").footprint(raw)
  if #hws > 0 then
    timing.step(raw, hws, opts.gpus)
    timing.prune(raw, opts.depth)
  end
  return results.dress(raw)
end

-- sweep(model_or_path, points [, opts]) -> list of totals, one per point; each point is an
-- inputs table ({ batch_size = 8, seq_len = 512 }, ...). One process, one memo: a layer whose
-- evaluated parameters recur across points is priced once. opts.phase applies to all.
function lmp.sweep(model, points, opts)
  if type(model) == "string" then model = lmp.load_model(model) end
  local kept = { depth = 0, memo = {}, calcs = {} }
  local out = {}
  for i, point in ipairs(points) do
    local given = point
    if opts and opts.phase and point.phase == nil then
      given = { phase = opts.phase }
      for k, v in pairs(point) do given[k] = v end
    end
    given = with_model_defaults(model, given)
    local checked = inputs.check(given)
    check_encoder_only(model, checked.phase, checked.kv_len)
    out[i] = core.analyze(model, checked, registry.lookup, kept).totals
  end
  return out
end

-- generate(model_or_path, { prompt_len=, new_tokens=, batch_size=, ...bits }) -> result with
-- the totals of a prefill of prompt_len tokens and every decode step after it, summed
-- exactly in closed form (see lmp.phases)
function lmp.generate(model, given, opts)
  if type(model) == "string" then model = lmp.load_model(model) end
  check_encoder_only(model, "generate", 0)
  return results.dress(require("lmp.phases").generate(lmp.analyze, model, given, opts))
end

-- model_table(model) -> the model as a table of the model format (lmp.model_json's input):
-- a table as is; a path read (a config built); a loaded model re-read from its file, or
-- built again from its config
function lmp.model_table(model)
  if type(model) == "table" then return model end
  local path = type(model) == "string" and model or model.file
  local ok, t = pcall(function () return core.json_decode(core.read_file(path), path) end)
  if ok and type(t) == "table" and t.layers then return t end
  if ok and type(t) == "table" and t.model_type then return lmp.build(t, { source = path }) end
  if type(model) ~= "string" and model.config then
    return lmp.build(model.config, { model_id = model.model_id, source = model.file })
  end
  fail(("%s: cannot read the model back as a table"):format(tostring(path)))
end

-- parallel(model, inputs, layout [, opts]) -> the answer per rank under a parallel layout
-- (lmp.parallel): layout { tp, pp, dp, zero, micro_batch, global_batch, virtual_stages,
-- gpus_per_node }; opts.hw: the hardware to time a step on
function lmp.parallel(model, given, layout, opts)
  local t = lmp.model_table(model)
  local function load(m) return core.load_model_string(lmp.model_json(m), (t.model_id or "model") .. " (a rank)") end
  local hws = timing.hardware_list(opts)
  return require("lmp.parallel").run(lmp.analyze, load, t, given or {}, layout or {}, { hw = hws[1] and hws or nil })
end

-- registry API (the original LM-Predictor's paved path). name: full class name, a public
-- alias PyTorch exports it under (torch.nn.Linear) or db key.

-- the bit widths a direct call fills in when they are not given
local BITS = { "w_bits", "a_bits", "kv_bits" }

-- get_required_parameters(name) -> { param = type }, { param = default }: every parameter the
-- calculator takes, with its type name (the original's { N = "int", ... }); the second table
-- holds what those that may be left out take (constructor defaults, bit widths 16)
function lmp.get_required_parameters(name)
  local calc = registry.get(name)
  local types, defaults = {}, {}
  for k, spec in pairs(calc.required) do
    types[k] = type(spec.declared) == "table" and spec.declared.type or spec.declared
    defaults[k] = spec.default
  end
  for _, k in ipairs(BITS) do
    if types[k] and defaults[k] == nil then defaults[k] = 16 end
  end
  return types, defaults
end

-- The parameters a direct call passes to the calculator: a copy of params with the bit
-- widths filled in. dtype_bytes (the original's byte width of every tensor) gives
-- w_bits = a_bits = 8 * dtype_bytes, and kv_bits too unless kv_bits is given (a cache
-- quantised apart from the model is a real setting); a w_bits or a_bits that disagrees is
-- an error. A calculator that takes dtype_bytes itself gets it unchanged.
local function call_params(fname, name, params)
  if type(name) ~= "string" then fail(("lmp.%s: expected a class name first, got a %s"):format(fname, type(name))) end
  local calc = registry.get(name)
  if params ~= nil and (type(params) ~= "table" or params[1] ~= nil) then
    local shown = {}
    for _, k in ipairs(calc.names) do
      if calc.required[k].default == nil and not k:match("bits$") then shown[#shown + 1] = k .. " = ..." end
    end
    fail(("lmp.%s: parameters go in one table of name = value, not positional values: lmp.%s(%q, { %s })")
      :format(fname, fname, name, table.concat(shown, ", ")))
  end
  local p = {}
  for k, v in pairs(params or {}) do p[k] = v end
  local bytes
  if p.dtype_bytes ~= nil and not calc.required.dtype_bytes then
    bytes, p.dtype_bytes = p.dtype_bytes, nil
    if math.type(bytes) ~= "integer" or bytes < 1 or bytes > 8 then
      fail(("dtype_bytes must be a whole number of bytes from 1 to 8, got %s (give w_bits/a_bits for narrower types)")
        :format(tostring(bytes)))
    end
    for _, k in ipairs({ "w_bits", "a_bits" }) do
      if p[k] ~= nil and p[k] ~= 8 * bytes then
        fail(("dtype_bytes = %d means %s = %d, but %s = %s was given"):format(bytes, k, 8 * bytes, k, tostring(p[k])))
      end
    end
  end
  for _, k in ipairs(BITS) do
    if p[k] == nil and calc.required[k] then p[k] = bytes and 8 * bytes or 16 end
  end
  return calc, p
end

-- compute(name, params [, with_backward]) -> { flops, matmul_flops, params, reads, writes,
--   intermediates, weights, state, backward_flops, backward_matmul_flops }
local function compute(fname, name, params, with_backward)
  local calc, p = call_params(fname, name, params)
  return core.compute(calc, p, with_backward)
end
function lmp.compute(name, params, with_backward) return compute("compute", name, params, with_backward) end
-- compute_backward(name, params) -> { flops, matmul_flops } of the call's backward pass
function lmp.compute_backward(name, params)
  local r = compute("compute_backward", name, params, true)
  return { flops = r.backward_flops, matmul_flops = r.backward_matmul_flops }
end
function lmp.compute_flops(name, params) return compute("compute_flops", name, params).flops end
function lmp.compute_matmul_flops(name, params) return compute("compute_matmul_flops", name, params).matmul_flops end
function lmp.compute_params(name, params) return compute("compute_params", name, params).params end
function lmp.compute_memory(name, params)
  local r = compute("compute_memory", name, params)
  return { reads = r.reads, writes = r.writes, intermediates = r.intermediates, weights = r.weights, state = r.state }
end

-- register(calculator_table) -> the calculator object: a calculator defined inline in a
-- script, checked like a file's (same fields, parameters validated before every call,
-- results checked) and used ahead of any file for its class
function lmp.register(calc)
  if type(calc) ~= "table" then fail("register: expected a calculator table") end
  local name = type(calc.full_class_name) == "string" and calc.full_class_name or "?"
  local obj = core.calculator_from_table("(registered " .. name .. ")", calc)
  registry.register(obj)
  return obj
end

-- check_calculator(path_or_table [, db_path]) -> problems (empty when it passes): the checks
-- a generated calculator goes through; with a db entry for its key, formulas must agree
function lmp.check_calculator(what, db_path)
  local db = require "lmp.db"
  local ok, calc = pcall(function ()
    if type(what) == "table" then return core.calculator_from_table("(table)", what) end
    return core.load_calculator(what)
  end)
  if not ok then return { tostring(calc) } end
  local key = registry.key_of(calc.full_class_name)
  local entries = {}
  if db_path then -- one explicit file, else the bundled db overlaid by the user's
    if core.file_kind(db_path) == "file" then entries = db.load(db_path) end
  else
    entries = db.effective()
  end
  if not entries[key] then
    -- no entry: check the calculator alone, on its samples, against a formula-free entry
    local params = {}
    for _, name in ipairs(calc.names) do params[#params + 1] = { name = name, type = "int" } end
    entries[key] = { full_class_name = calc.full_class_name, code_location = {}, memory_analysis = {},
                     params_analysis = {}, flop_analysis = { thinking_process = "", parameters = params },
                     no_formulas = true }
  end
  return db.check_entry(entries, key, calc)
end

-- format(result, "table" | "json" | "csv" | "markdown") -> text
function lmp.format(result, format)
  return require("lmp.report").format(result, format or "table")
end

-- eval(formula, vars [, resolve_module]) -> exact integer value of a ${param} formula
lmp.eval = core.eval

-- json_decode(text [, name]): exact 64-bit integers, errors with name:line:col
lmp.json_decode = core.json_decode

return lmp
