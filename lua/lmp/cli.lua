-- The command line: `lmp <command> [options]`. main(argv) returns the exit code; user
-- errors are raised as lmp errors (one line, exit code attached) and printed by main.c.
local core = require "lmp.core"
local lmp = require "lmp"
local report = require "lmp.report"
local db = require "lmp.db"

local EXIT = core.EXIT
local cli = {}

local function usage_error(msg) core.error(EXIT.USAGE, msg) end

local HELP = [[
lmp %s - FLOPs, parameters and memory traffic of PyTorch models, layer by layer

usage:
  lmp analyze --model-json FILE [options]   analyse a model in the standard JSON format
  lmp analyze --config PATH [options]       analyse a Hugging Face config.json (or a folder with one)
  lmp analyze --model-id ORG/NAME [options] the same, the config from the Hugging Face cache or Hub
  lmp export --config PATH|--model-id ID [--out FILE]
                                            write the model JSON built from a config
  lmp module list                           list calculators and where each comes from
  lmp module show CLASS                     a calculator's parameters and its db entry
  lmp module check FILE [--db FILE]         check a hand-written calculator as generated ones are
  lmp module flops|memory|params|compute CLASS name=value ...
                                            run one calculator (CLASS: full class name or db key)
  lmp db check [--db FILE]                  prove module_db.json formulas agree with the calculators
  lmp generate --full-class-name CLASS [--source FILE | --source-root DIR] [--force]
                                            write a calculator and db entry for CLASS with an LLM
  lmp script.lua [args]                     run a Lua script with the lmp API (like `lua`)
  lmp help | --help, lmp version | --version

analyze options:
  --model-json FILE     model file (see models/ for examples)
  --config PATH         a Hugging Face config.json, or a folder holding one
  --model-id ORG/NAME   a Hub model: its config from HF_HUB_CACHE/HF_HOME, lmp's cache, or
                        downloaded from HF_ENDPOINT (HF_TOKEN for gated models)
  --batch N             batch size (default 1)
  --seq N               tokens processed in this step (default 2048; 1 for --phase decode)
  --phase P             prefill (default), decode, train (forward + backward, Adam memory)
                        or generate (a prefill of --seq tokens, then --new-tokens N - 1
                        decode steps, summed exactly)
  --kv-len N            tokens already in the KV cache (default 0; needed for decode)
  --new-tokens N        tokens to generate (with --phase generate)
  --enc-len N           encoder positions of an encoder-decoder model (default: --seq)
  --w-bits N, --a-bits N, --kv-bits N
                        bits per weight, activation, KV-cache entry (default 16)
  --depth N             levels of the tree to show (default: all)
  --format F            table (default), json, csv or markdown

unknown modules (analyze and generate):
  analyze reports them (exit 1) with the `lmp generate` command that fills each; with
  --generate (or LMP_GENERATE=1) it asks the LLM (ANTHROPIC_API_KEY, or OPENAI_BASE_URL
  [+ OPENAI_API_KEY]) for each calculator, checks it in the sandbox, stores it in
  $XDG_DATA_HOME/lmp (~/.local/share/lmp) and continues; --offline never asks.
  Each LLM call's tokens and estimated cost go to stderr (prices: LMP_LLM_PRICE_IN/OUT).
  --provider anthropic|openai, --llm-model NAME, --max-rounds N (3), --source-root DIR
  (a transformers checkout or site-packages)

everywhere:
  --modules DIR         search DIR for calculators before the bundled ones (repeatable;
                        LMP_PATH=dir1:dir2 does the same)

exit codes: 0 ok, 1 analysis incomplete (unknown modules), 2 bad usage or input,
            3 calculator error or overflow, 4 check failed, 70 internal error
]]

-- parse(args, spec, command) -> options, positionals. spec: option name -> "int" (a
-- non-negative integer) | "string" | "list" (repeatable) | "flag" (no value); --name VALUE
-- or --name=VALUE. Usage errors name `lmp <command>`.
local function parse(args, spec, command)
  local opts, pos = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^%-%-([%w-]+)=(.*)$")
    name = name or a:match("^%-%-([%w-]+)$")
    if name then
      local kind = spec[name]
      if not kind then
        usage_error(("lmp %s: unknown option --%s (see lmp --help)"):format(command, name))
      end
      if kind == "flag" then
        if inline then usage_error(("lmp %s: --%s takes no value"):format(command, name)) end
        opts[name] = true
        i = i + 1
        goto continue
      end
      local value = inline
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then usage_error(("lmp %s: --%s needs a value"):format(command, name)) end
      end
      if kind == "int" then
        local n = value:match("^%d+$") and math.tointeger(tonumber(value))
        if not n then
          usage_error(("lmp %s: --%s expects a non-negative integer, got '%s'"):format(command, name, value))
        end
        value = n
      end
      if kind == "list" then
        opts[name] = opts[name] or {}
        table.insert(opts[name], value)
      else
        opts[name] = value
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
    ::continue::
  end
  return opts, pos
end
cli.parse = parse

local function apply_modules(opts)
  if opts.modules then lmp.set_module_paths(opts.modules) end
end

local function out(s) io.stdout:write(s) end

-- ---- analyze ----

-- the model an analyze or export command names: --model-json FILE or --config PATH
-- --model-id ID alone fetches the config (cache, then Hub); beside --config it names the model
local function check_model_source(o, command)
  local given = (o["model-json"] and 1 or 0) + (o.config and 1 or 0) + ((o["model-id"] and not o.config) and 1 or 0)
  if given ~= 1 then
    usage_error(("lmp %s: give one of --model-json FILE, --config PATH or --model-id ORG/NAME"):format(command))
  end
end

local function model_from(o, command)
  check_model_source(o, command)
  if o["model-json"] then return lmp.load_model(o["model-json"]) end
  if o.config then return lmp.load_config(o.config, { model_id = o["model-id"] }) end
  return lmp.load_model_id(o["model-id"])
end

local ANALYZE_OPTS = { config = "string", ["model-json"] = "string", ["model-id"] = "string", batch = "int", seq = "int",
  phase = "string", ["kv-len"] = "int", ["new-tokens"] = "int", ["enc-len"] = "int", offline = "flag", generate = "flag",
  ["source-root"] = "string", provider = "string", ["llm-model"] = "string", ["max-rounds"] = "int",
  ["w-bits"] = "int", ["a-bits"] = "int", ["kv-bits"] = "int", depth = "int", format = "string", modules = "list" }

-- analyze_options(args) -> options, inputs, format: the command line of `lmp analyze` parsed
-- and checked, every usage error it can have raised, without loading or analysing anything.
-- inputs is what lmp.analyze takes (lmp.generate's prompt_len and new_tokens with --phase
-- generate), already validated as they will be.
function cli.analyze_options(args)
  local o, pos = parse(args, ANALYZE_OPTS, "analyze")
  if #pos > 0 then usage_error("lmp analyze: unexpected argument '" .. pos[1] .. "'") end
  local phase = o.phase or "prefill"
  if not ({ prefill = 1, decode = 1, train = 1, generate = 1 })[phase] then
    usage_error("lmp analyze: --phase must be prefill, decode, train or generate, got '" .. phase .. "'")
  end
  if phase == "decode" and not o["kv-len"] then
    usage_error("lmp analyze: --phase decode needs --kv-len N (tokens already in the KV cache)")
  end
  if (phase == "generate") ~= (o["new-tokens"] ~= nil) then
    usage_error("lmp analyze: --new-tokens N goes with --phase generate (the prompt is --seq tokens)")
  end
  if (phase == "train" or phase == "generate") and o["kv-len"] then
    usage_error(("lmp analyze: --phase %s starts from an empty KV cache; drop --kv-len"):format(phase))
  end
  local format = o.format or "table"
  if not ({ table = 1, json = 1, csv = 1, markdown = 1 })[format] then
    usage_error("lmp analyze: --format must be table, json, csv or markdown, got '" .. format .. "'")
  end
  local inputs = {
    batch_size = o.batch, seq_len = o.seq or (phase == "decode" and 1 or nil), kv_len = o["kv-len"],
    w_bits = o["w-bits"], a_bits = o["a-bits"], kv_bits = o["kv-bits"], phase = phase, enc_len = o["enc-len"],
  }
  check_model_source(o, "analyze")
  local check = {} -- what lmp.analyze (or each step of lmp.generate) will check
  for k, v in pairs(inputs) do check[k] = v end
  if phase == "generate" then
    inputs.phase, inputs.seq_len = nil, nil
    inputs.prompt_len, inputs.new_tokens = o.seq or 2048, o["new-tokens"]
    if inputs.new_tokens < 1 then usage_error("lmp analyze: --new-tokens must be at least 1") end
    check.phase, check.seq_len, check.enc_len = "prefill", inputs.prompt_len, o["enc-len"] or inputs.prompt_len
  end
  lmp.inputs(check)
  return o, inputs, format
end

function cli.analyze(args)
  local o, inputs, format = cli.analyze_options(args)
  apply_modules(o)
  local phase = o.phase or "prefill"
  local model = model_from(o, "analyze")
  local function run()
    if phase == "generate" then return lmp.generate(model, inputs, { depth = o.depth }) end
    return lmp.analyze(model, inputs, { depth = o.depth })
  end
  local result = run()
  local failure
  if not result.complete and cli.generation_wanted(o) then
    local ok, err = pcall(cli.fill_unknown, model, result, o, inputs)
    if not ok and not core.is_error(err) then error(err, 0) end -- a bug in lmp
    failure = not ok and err or nil
    result = run() -- a calculator written before a failure counts too
  end
  out(report.format(result, format))
  -- the figures are still computed, but the model could not actually run this context
  local config = model.config or {}
  for _, key in ipairs({ "max_position_embeddings", "n_positions" }) do
    local limit = config[key]
    local tokens = result.inputs.kv_len + result.inputs.seq_len
    if math.type(limit) == "integer" and tokens > limit then
      io.stderr:write(("lmp: warning: %d tokens exceed the model's %d positions (config %s)\n"):format(tokens, limit, key))
      break
    end
  end
  cli.print_spent()
  if not result.complete then
    local err = function (s) io.stderr:write("lmp: " .. s .. "\n") end
    if failure then err("generation failed: " .. tostring(failure)) end
    local classes = {}
    for _, u in ipairs(result.unknown_modules) do classes[#classes + 1] = u.class end
    err(("analysis incomplete: no calculator for %s (marked UNKNOWN in the report)"):format(table.concat(classes, ", ")))
    err("to write one with an LLM (a paid API call with ANTHROPIC_API_KEY, or OPENAI_BASE_URL), run:")
    for _, class in ipairs(classes) do err("  " .. cli.generate_command(class, o)) end
    if not failure then
      err("or rerun with --generate (or LMP_GENERATE=1); or write it by hand (docs/calculators.md)")
    end
    return EXIT.INCOMPLETE
  end
  return EXIT.OK
end

-- generation is asked for on purpose: --generate or LMP_GENERATE=1; --offline forbids it
function cli.generation_wanted(o)
  if o.offline and o.generate then usage_error("lmp analyze: --offline and --generate exclude each other") end
  if o.offline then return false end
  local v = os.getenv("LMP_GENERATE") or ""
  if not ({ [""] = 1, ["0"] = 1, ["1"] = 1 })[v] then usage_error("LMP_GENERATE must be 1 or 0, got '" .. v .. "'") end
  return o.generate or v == "1"
end

-- the `lmp generate` command line that fills class, with analyze's options that apply to it
function cli.generate_command(class, o)
  local function q(v) return v:match("^[%w%._/:=+-]+$") and v or ("'" .. v:gsub("'", "'\\''") .. "'") end
  local parts = { "lmp generate --full-class-name", q(class) }
  for _, name in ipairs({ "source-root", "provider", "llm-model", "max-rounds" }) do
    if o[name] then parts[#parts + 1] = ("--%s %s"):format(name, q(tostring(o[name]))) end
  end
  for _, dir in ipairs(o.modules or {}) do parts[#parts + 1] = "--modules " .. q(dir) end
  return table.concat(parts, " ")
end

-- "LLM total: ..." on stderr once any LLM call was answered
function cli.print_spent()
  local line = require("lmp.llm").total_line()
  if line then io.stderr:write("lmp: LLM total: " .. line .. "\n") end
end

local function agent_opts(o, extra)
  local opts = { source_root = o["source-root"], source = o.source, force = o.force, max_rounds = o["max-rounds"],
                 llm = { provider = o.provider, model = o["llm-model"] },
                 log = function (msg) io.stderr:write("lmp: " .. msg .. "\n") end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return opts
end

-- the unknown-module path of analyze --generate: write a calculator for each unknown class
-- (checked with the parameters of the first layer that uses it), or raise why not
function cli.fill_unknown(model, result, o, inputs)
  if inputs.prompt_len then -- --phase generate: the layers as its prefill sees them
    inputs = { batch_size = inputs.batch_size, seq_len = inputs.prompt_len, enc_len = inputs.enc_len,
               w_bits = inputs.w_bits, a_bits = inputs.a_bits, kv_bits = inputs.kv_bits }
  end
  local full = lmp.analyze(model, inputs) -- every level, for the unknown layers' parameters
  local params_of = {}
  local function visit(nodes)
    for _, n in ipairs(nodes or {}) do
      if n.unknown and not params_of[n.class] then params_of[n.class] = n.parameters or {} end
      visit(n.children)
    end
  end
  visit(full.tree)
  local runtime = {}
  for _, k in ipairs({ "batch_size", "seq_len", "kv_len", "w_bits", "a_bits", "kv_bits" }) do runtime[k] = full.inputs[k] end
  for _, u in ipairs(result.unknown_modules) do
    require("lmp.agent").generate(u.class, agent_opts(o, { layer_params = params_of[u.class], runtime = runtime }))
  end
end

-- ---- generate ----

function cli.generate(args)
  local o, pos = parse(args, { ["full-class-name"] = "string", source = "string", ["source-root"] = "string",
    provider = "string", ["llm-model"] = "string", ["max-rounds"] = "int", force = "flag",
    modules = "list" }, "generate")
  if #pos > 0 then usage_error("lmp generate: unexpected argument '" .. pos[1] .. "'") end
  apply_modules(o)
  if not o["full-class-name"] then usage_error("lmp generate: --full-class-name CLASS is required") end
  local ok, r = pcall(require("lmp.agent").generate, o["full-class-name"], agent_opts(o))
  cli.print_spent()
  if not ok then error(r, 0) end
  out(("%s: %s written after %d round%s\n"):format(o["full-class-name"], r.file, r.rounds, r.rounds == 1 and "" or "s"))
  return EXIT.OK
end

-- ---- export ----

function cli.export(args)
  local o, pos = parse(args, { config = "string", ["model-json"] = "string", out = "string", ["model-id"] = "string" }, "export")
  if #pos > 0 then usage_error("lmp export: unexpected argument '" .. pos[1] .. "'") end
  if not o.config and not o["model-id"] then
    usage_error("lmp export: give --config PATH (a config.json or a folder holding one) or --model-id ORG/NAME")
  end
  local path = o.config or require("lmp.hub").config_path(o["model-id"])
  local config, source = lmp.read_config(path)
  local model = lmp.build(config, { source = source, model_id = o["model-id"] })
  local text = lmp.model_json(model)
  core.load_model_string(text, source) -- what we write must load
  if o.out then
    local ok, err = core.write_file_atomic(o.out, text)
    if not ok then usage_error("lmp export: " .. err) end
  else
    out(text)
  end
  return EXIT.OK
end

-- ---- module ----

local function parse_value(s)
  if s == "true" then return true elseif s == "false" then return false end
  if s:match("^%-?%d+$") then
    local n = math.tointeger(tonumber(s))
    if n then return n end
    usage_error("value " .. s .. " does not fit in 64 bits")
  end
  local f = s:match("^%-?%d*%.?%d+[eE]?[-+]?%d*$") and tonumber(s)
  if f then return f end
  return s
end

local function parse_params(list)
  local p = {}
  for _, kv in ipairs(list) do
    local k, v = kv:match("^([%a_][%w_]*)=(.*)$")
    if not k then usage_error("expected name=value, got '" .. kv .. "'") end
    p[k] = parse_value(v)
  end
  return p
end

local function module_list()
  local rows = lmp.registry.list()
  local bundled = lmp.home .. "/modules_lua"
  for _, r in ipairs(rows) do
    local where = r.dir == bundled and "bundled" or ("user " .. r.dir)
    local note = r.error and ("  ERROR: " .. r.error) or (r.shadowed_by and ("  (shadowed by " .. r.shadowed_by .. ")") or "")
    out(("%-44s %-62s %s%s\n"):format(r.key or "?", r.full_class_name or "?", where, note))
  end
  out(("%d calculators\n"):format(#rows))
  return EXIT.OK
end

-- a parameter spec's min, max or values as the calculator wrote them, whatever their type
local function spec_text(v)
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for i, x in ipairs(v) do parts[i] = type(x) == "table" and "{...}" or tostring(x) end
  return #parts > 0 and table.concat(parts, "|") or "{}"
end

local function module_show(name)
  local calc = lmp.registry.get(name)
  local key = lmp.registry.key_of(calc.full_class_name)
  out(("class       %s\nkey         %s\ncalculator  %s\n"):format(calc.full_class_name, key, calc.file))
  if calc.same_as then out(("same as     %s\n"):format(calc.same_as)) end
  out("parameters\n")
  for _, p in ipairs(calc.names) do
    local spec = calc.required[p]
    local extra = ""
    if spec.min ~= nil then extra = extra .. " >= " .. spec_text(spec.min) end
    if spec.max ~= nil then extra = extra .. " <= " .. spec_text(spec.max) end
    if spec.values ~= nil then extra = extra .. " one of " .. spec_text(spec.values) end
    out(("  %-22s %s%s\n"):format(p, spec.type, extra))
  end
  local ok, entries, origin = pcall(db.effective)
  local entry = ok and entries[key]
  if entry then
    out(("db entry from %s\n"):format(origin[key]))
    out("module_db.json formulas\n")
    for _, f in ipairs(db.FORMULAS) do
      local section = entry[f[1]]
      if type(section) == "table" and section[f[2]] then out(("  %-14s %s\n"):format(f[3], section[f[2]])) end
    end
    if type(entry.code_location) == "table" then
      out(("source      %s:%s\n"):format(tostring(entry.code_location.file), tostring(entry.code_location.line_start)))
    end
  else
    out("module_db.json has no entry for " .. key .. "\n")
  end
  return EXIT.OK
end

local function module_compute(what, name, params)
  local r = lmp.compute(name, params)
  if what == "flops" then
    out(("flops %d\nmatmul_flops %d\n"):format(r.flops, r.matmul_flops))
  elseif what == "memory" then
    out(("reads %d\nwrites %d\nintermediates %d\n"):format(r.reads, r.writes, r.intermediates))
  elseif what == "params" then
    out(("params %d\n"):format(r.params))
  else
    for _, k in ipairs({ "flops", "matmul_flops", "params", "reads", "writes", "intermediates" }) do
      out(("%s %d\n"):format(k, r[k]))
    end
  end
  return EXIT.OK
end

function cli.module(args)
  local o, pos = parse(args, { modules = "list", db = "string" }, "module")
  apply_modules(o)
  local sub = pos[1]
  if sub == "list" then return module_list() end
  if sub == "show" then
    if not pos[2] then usage_error("lmp module show CLASS") end
    return module_show(pos[2])
  end
  if sub == "flops" or sub == "memory" or sub == "params" or sub == "compute" then
    if not pos[2] then usage_error(("lmp module %s CLASS name=value ..."):format(sub)) end
    return module_compute(sub, pos[2], parse_params({ table.unpack(pos, 3) }))
  end
  if sub == "check" then
    if not pos[2] then usage_error("lmp module check FILE") end
    local problems = lmp.check_calculator(pos[2], o.db)
    if #problems == 0 then
      out(("ok    %s\n"):format(pos[2]))
      return EXIT.OK
    end
    for _, p in ipairs(problems) do out(("FAIL  %s: %s\n"):format(pos[2], p)) end
    return EXIT.CHECK
  end
  usage_error("lmp module: expected list, show, check, flops, memory, params or compute" ..
    (sub and (", got '" .. sub .. "'") or ""))
end

-- ---- db ----

function cli.db(args)
  local o, pos = parse(args, { db = "string", modules = "list" }, "db")
  apply_modules(o)
  if pos[1] ~= "check" then usage_error("lmp db: expected check") end
  local results = db.check(o.db) -- without --db: the bundled file and the user's overlay
  local failed = 0
  -- which file each entry came from, when there are two
  local function from(r) return o.db and "" or (r.origin == lmp.db_path and "bundled: " or "user: ") end
  for _, r in ipairs(results) do
    if #r.problems == 0 then
      out(("ok    %-44s %s%s\n"):format(r.key, from(r), r.same_as and ("same as " .. r.same_as) or (r.samples .. " samples")))
    else
      failed = failed + 1
      for _, p in ipairs(r.problems) do out(("FAIL  %-44s %s%s\n"):format(r.key, from(r), p)) end
    end
  end
  local user = lmp.user_db_path()
  out(("%d entries, %d failed (%s)\n"):format(#results, failed, o.db or ("bundled " .. lmp.db_path .. ", user " .. user ..
    (lmp.core.file_kind(user) == "file" and "" or " (none yet)"))))
  return failed == 0 and EXIT.OK or EXIT.CHECK
end

function cli.main(argv)
  local cmd = argv[1]
  local rest = { table.unpack(argv, 2) }
  if cmd == nil or cmd == "help" or cmd == "--help" or cmd == "-h" then
    out(HELP:format(lmp.version))
    return EXIT.OK
  elseif cmd == "version" or cmd == "--version" then
    out(("lmp %s (%s)\n"):format(lmp.version, _VERSION))
    return EXIT.OK
  elseif cmd == "analyze" or cmd == "module" or cmd == "db" or cmd == "export" or cmd == "generate" then
    return cli[cmd](rest)
  end
  usage_error("unknown command '" .. tostring(cmd) .. "' (see lmp --help)")
end

return cli
