-- The command line: `lmp <command> [options]`. main(argv) returns the exit code; user
-- errors are raised as lmp errors (one line, exit code attached) and printed by main.c.
local core = require "lmp.core"
local lmp = require "lmp"
local report = require "lmp.report"
local db = require "lmp.db"
local util = require "lmp.util"

local EXIT = core.EXIT
local cli = {}

local usage_error = util.fail

-- ---- the commands: one table per command is the parser's spec, its `lmp CMD --help` and
-- its lines in `lmp --help` ----

-- bit widths by name: the storage bits of one element (quantisation scales and zero
-- points not included); any integer 1..64 works too
cli.BIT_WIDTHS = {
  { 64, "fp64", "float64" }, { 32, "fp32", "float32" },
  { 16, "bf16", "bfloat16", "fp16", "float16", "half" },
  { 8, "fp8", "fp8_e4m3", "fp8_e5m2", "int8", "uint8" }, { 4, "int4", "uint4", "nf4", "fp4" }, { 2, "int2" },
}
local BITS = {}
for _, row in ipairs(cli.BIT_WIDTHS) do
  for k = 2, #row do BITS[row[k]] = row[1] end
end

-- size suffixes of counts: k = 1024 as in "8k context" (8192 tokens), M = 1024 k
cli.SIZE_SUFFIX = { [""] = 1, k = 1024, K = 1024, m = 1 << 20, M = 1 << 20 }

-- option rows: { name, kind, metavar, description }. kinds: "int" (a non-negative integer),
-- "count" (the same, or with a size suffix: 8k), "bits" (1..64 or a name of BIT_WIDTHS),
-- "string", "list" (repeatable), "flag" (no value)
local MODULES = { "modules", "list", "DIR", "calculators in DIR first (repeatable; before or after the command)" }
local MODEL_OPTS = {
  { "model-json", "string", "FILE", "a model file in lmp's JSON format (see models/)" },
  { "config", "string", "PATH", "a Hugging Face config.json, or a folder holding one" },
  { "model-id", "string", "ORG/NAME", "a model id: bundled, else from the HF cache, lmp's cache or the Hub" },
  { "revision", "string", "REV", "branch, tag or commit of --model-id on the Hub (default main)" },
}
local MODEL_TEXT = [[
MODEL is a model JSON file (it has "layers"), a Hugging Face config.json or a folder
holding one, or else an ORG/NAME id. An id of a bundled model (lmp models) uses its file,
offline; with --revision (or for other ids) the config comes from the Hugging Face cache
(HF_HUB_CACHE, HF_HOME/hub), lmp's cache (LMP_CACHE), or HF_ENDPOINT (the token: HF_TOKEN,
else the file HF_TOKEN_PATH or HF_HOME/token that `huggingface-cli login` writes).]]

-- the options of the runtime inputs (core.INPUTS): --batch N, ... with their defaults
local METAVAR = { count = "N", bits = "B", choice = "NAME" }
local function input_option(row)
  local default = row.default_from
    and ("default: " .. row.default_from:gsub("[%w_]+", function (name) return "--" .. core.INPUTS[name].flag end))
    or ("default " .. (row.choices and row.choices[row.default + 1] or row.default))
  return { row.flag, row.kind, METAVAR[row.kind], ("%s (%s%s)"):format(row.doc, default, row.note and ("; " .. row.note) or "") }
end

-- "prefill (default), decode, train (forward + backward, Adam) or generate": core.PHASES,
-- and report.FORMATS likewise, the first the default
local function choices(rows, hint)
  local names = {}
  for i, row in ipairs(rows) do
    local h = i == 1 and "default" or hint and hint(row)
    names[i] = row.name .. (h and (" (" .. h .. ")") or "")
  end
  return util.either(names)
end
local function names_of(rows)
  local names = {}
  for i, row in ipairs(rows) do names[i] = row.name end
  return names
end

-- analyze's options: the model, the inputs (with --phase after --seq and --new-tokens after
-- --kv-len), then the report and the agent
local function analyze_options()
  local opts = { MODEL_OPTS[1], MODEL_OPTS[2], MODEL_OPTS[3], MODEL_OPTS[4] }
  local after = {
    seq_len = { "phase", "string", "P", choices(core.PHASES, function (p) return p.backward and "forward + backward, Adam" end) },
    kv_len = { "new-tokens", "count", "N", "tokens to generate with --phase generate (prefill, then N - 1 decode steps)" },
  }
  for _, row in ipairs(core.INPUTS) do
    opts[#opts + 1] = input_option(row)
    opts[#opts + 1] = after[row.name]
  end
  for _, opt in ipairs({
      { "depth", "int", "N", "levels of the tree to show (default: as many as fit; 0: the totals alone)" },
      { "hw", "list", "NAME|FILE", "time on this hardware, per layer and in total (repeatable; lmp hw list)" },
      { "gpus", "int", "N", "with --hw: does it fit in the memory of N of them (default 1)" },
      { "tp", "int", "N", "tensor-parallel ranks: the layout's answer per rank (Megatron's semantics)" },
      { "pp", "int", "N", "pipeline stages (1F1B)" },
      { "dp", "int", "N", "data-parallel replicas" },
      { "ep", "int", "N", "expert-parallel ranks (of the --dp ones): MoE experts split over them" },
      { "sp", "flag", nil, "sequence parallelism over --tp: norms and residual adds on seq/tp tokens" },
      { "cp", "int", "N", "context-parallel ranks: each runs seq/N tokens, attention gathers K and V" },
      { "zero", "int", "S", "ZeRO stage 0-3 over --dp: optimizer states, + gradients, + weights (train)" },
      { "micro-batch", "int", "N", "sequences a rank runs at once (default --batch)" },
      { "global-batch", "int", "N", "sequences a training step takes (default micro-batch x dp x pp)" },
      { "virtual-stages", "int", "N", "interleaved 1F1B: model chunks a pipeline rank holds (default 1)" },
      { "recompute", "string", "HOW", "activation recomputation in training: none (default), selective or full" },
      { "tokens", "amount", "N", "a training budget (300B, 1.4T): its steps, wall time, GPU-hours, 6ND" },
      { "gpus-per-node", "int", "N", "GPUs sharing the fast link (default 8)" },
      { "format", "string", "F", choices(report.FORMATS) },
      { "generate", "flag", nil, "ask an LLM (paid) for missing calculators (or LMP_GENERATE=1)" },
      { "offline", "flag", nil, "never ask an LLM, even with LMP_GENERATE=1" },
      { "provider", "string", "P", "LLM for unknown modules: anthropic or openai (an OpenAI-compatible server)" },
      { "llm-model", "string", "NAME", "the LLM model to ask" },
      { "max-rounds", "int", "N", "LLM rounds per calculator (default 3)" },
      { "max-llm-calls", "int", "N", "LLM calls this run makes at most (default 10; LMP_LLM_MAX_CALLS)" },
      { "source-root", "string", "DIR", "unknown classes' Python source (a transformers checkout, site-packages)" },
      MODULES }) do
    opts[#opts + 1] = opt
  end
  return opts
end

local function bits_text()
  local lines = { "Bit widths are a number 1-64 or a name (storage bits; quantisation scales are not counted):" }
  for _, row in ipairs(cli.BIT_WIDTHS) do lines[#lines + 1] = ("  %2d  %s"):format(row[1], table.concat(row, " ", 2)) end
  return table.concat(lines, "\n")
end

cli.COMMANDS = {
  { name = "analyze", summary = "FLOPs, parameters, memory traffic and footprint, layer by layer",
    usage = { "lmp analyze MODEL [options]", "lmp analyze --model-json FILE | --config PATH | --model-id ORG/NAME [options]" },
    options = analyze_options(),
    text = MODEL_TEXT .. "\n" .. [[
Counts take k = 1024 and M = 1024 k: --seq 8k is 8192 tokens, --kv-len 32k is 32768.
]] .. bits_text() .. "\n" .. [[
The table fits the terminal (COLUMNS, else the terminal's width; 100 columns when stdout
is not a terminal) by showing fewer levels (said under the table), then cutting names.
--hw adds each layer's arithmetic intensity, bound and predicted time on that hardware, and
the totals: time to first token (prefill), time per output token (decode), step time
(train), tokens/s, MFU, memory-bandwidth use, energy per token (at the board power), and
whether the footprint fits in --gpus N of it (10% kept for the runtime). Times are
predictions of a calibrated roofline (docs/hardware.md, docs/validation.md).
An unknown module (no calculator) is reported (exit 1) with the `lmp generate` command that
fills it. With --generate (or LMP_GENERATE=1) analyze asks the LLM (ANTHROPIC_API_KEY, or
OPENAI_BASE_URL [+ OPENAI_API_KEY]) for each, checks it in the sandbox, stores it in
$XDG_DATA_HOME/lmp (~/.local/share/lmp) and continues; each call's tokens and estimated
cost go to stderr (prices: LMP_LLM_PRICE_IN/OUT).]] },
  { name = "serve", summary = "a serving plan: the largest batch and context that fit, TTFT, TPOT, tokens/s",
    usage = { "lmp serve MODEL --hw NAME|FILE [--context N] [--batch N] [--tp N] [--pp N] [options]" },
    options = {
      MODEL_OPTS[1], MODEL_OPTS[2], MODEL_OPTS[3], MODEL_OPTS[4],
      { "hw", "string", "NAME|FILE", "the hardware a GPU is (lmp hw list)" },
      { "context", "count", "N", "tokens a sequence holds (prompt + output): the largest batch that fits" },
      { "batch", "count", "N", "sequences served at once: the longest context that fits" },
      { "prompt", "count", "N", "the prompt of the time to first token (default --context)" },
      { "tp", "int", "N", "tensor-parallel GPUs" }, { "pp", "int", "N", "pipeline stages" },
      { "block-tokens", "int", "N", "tokens of a KV-cache block (default 16, vLLM's)" },
      { "w-bits", "bits", "B", "bits per weight (default 16)" }, { "a-bits", "bits", "B", "bits per activation (default 16)" },
      { "kv-bits", "bits", "B", "bits per KV-cache entry (default 16)" },
      { "attention", "choice", "NAME", "eager, sdpa (default) or flash" },
      { "draft", "string", "MODEL", "speculative decoding: the draft model" },
      { "draft-tokens", "int", "K", "tokens the draft proposes a step (default 4)" },
      { "acceptance", "string", "A", "the chance each drafted token is accepted, 0-1 (default 0.7)" },
      { "format", "string", "F", "table (default) or json" }, MODULES },
    text = [[
A GPU holds the weights of its rank, the KV cache of every sequence in blocks of
--block-tokens, and the larger working set of a decode step over them and of one prompt's
prefill, in its memory less 10% kept for the runtime. With --context: the largest batch;
with --batch: the longest context; with both: the times at them. TTFT is one prompt's
prefill; TPOT the decode step of the whole batch over the context; tokens/s the batch over
TPOT. Speculative decoding (--draft): K draft decode steps, then one target step over K + 1
positions, yielding (1 - A^(K+1)) / (1 - A) tokens. Times are predictions (docs/hardware.md).]] },
  { name = "plan", summary = "search hardware x layout x bits for the cheapest serving that meets targets",
    usage = { "lmp plan MODEL --context N [--max-ttft S] [--max-tpot S] [--min-throughput T] [options]" },
    options = {
      MODEL_OPTS[1], MODEL_OPTS[2], MODEL_OPTS[3], MODEL_OPTS[4],
      { "context", "count", "N", "tokens a sequence holds (prompt + output)" },
      { "prompt", "count", "N", "the prompt of the time to first token (default --context)" },
      { "max-ttft", "string", "S", "the longest time to first token, in seconds" },
      { "max-tpot", "string", "S", "the longest time per output token, in seconds" },
      { "min-throughput", "string", "T", "the fewest tokens a second" },
      { "gpus", "int", "N", "at most this many GPUs (default 8)" },
      { "hw", "list", "NAME|FILE", "hardware to try (repeatable; default every preset)" },
      { "price", "list", "NAME=USD", "price of a GPU-hour of NAME (repeatable): rank by the cost of 1M tokens" },
      { "w-bits", "string", "LIST", "weight widths to try, comma-separated (default 16; e.g. 16,8,4)" },
      { "kv-bits", "bits", "B", "bits per KV-cache entry (default 16)" },
      { "block-tokens", "int", "N", "tokens of a KV-cache block (default 16)" },
      { "top", "int", "N", "configurations to print (default 5)" },
      { "format", "string", "F", "table (default) or json" }, MODULES },
    text = [[
Tries every hardware x tensor-parallel (1, 2, 4, 8) x pipeline (1, 2, 4) layout of at most
--gpus GPUs x weight width: the largest batch that fits at --context (lmp serve's rule),
the time to first token, the largest batch whose time per output token meets --max-tpot,
the throughput. Ranks those that meet every target by the cost of a million tokens (with
--price), else by GPUs, then tokens/s a GPU; says how many failed, and why.]] },
  { name = "hw", summary = "the hardware presets: list them, show one with its sources",
    usage = { "lmp hw list", "lmp hw show NAME|FILE" }, options = { MODULES },
    text = [[
A hardware file (docs/hardware.md) gives memory, bandwidth, peak FLOP/s per compute type,
links and power, each figure with its source, and the time model's efficiencies. NAME is
looked up in LMP_HW_PATH, then $XDG_DATA_HOME/lmp/hardware (~/.local/share/lmp/hardware),
then the bundled presets; a FILE (a path, or ending in .json) is read as given.]] },
  { name = "calibrate", summary = "fit a hardware file's efficiencies to measured kernel times",
    usage = { "lmp calibrate --hw NAME|FILE MEASURED.csv|TRACE.json [--out FILE] [--name NAME]" },
    options = {
      { "hw", "string", "NAME|FILE", "the hardware the measurements were taken on" },
      { "out", "string", "FILE", "write the calibrated hardware file there (atomically)" },
      { "name", "string", "NAME", "its name (default: the hardware's, with -calibrated)" },
      { "no-loo", "flag", nil, "skip the leave-one-out error (one refit per measurement)" },
      { "per-class", "flag", nil, "also fit elementwise and norm classes' own memory efficiency (8+ rows)" },
      MODULES },
    text = [[
MEASURED.csv has a header naming the columns class, parameters and measured_us (and
optionally label): the calculator that prices the kernel (torch.nn.modules.linear.Linear),
its parameters as name=value;name=value (in_features=4096;out_features=4096;N=1), and the
kernel's measured time in microseconds (docs/hardware.md). A .json file is read as the torch
profiler's trace (record_shapes=True): mm, bmm, addmm, add, mul, silu, relu and gelu calls
with their kernels' GPU time. Prints the error before and after the fit and the
leave-one-out error (each measurement predicted by a fit without it).]] },
  { name = "export", summary = "write the model JSON a config builds, to read or edit",
    usage = { "lmp export MODEL [--out FILE]", "lmp export --config PATH | --model-id ORG/NAME [--revision REV] [--out FILE]" },
    options = { MODEL_OPTS[2], MODEL_OPTS[3], MODEL_OPTS[4],
      { "out", "string", "FILE", "write there (atomically) instead of to stdout" }, MODULES },
    text = MODEL_TEXT },
  { name = "export-torch", summary = "write the model JSON of any PyTorch module, traced on the meta device",
    usage = { "lmp export-torch MODULE [--input SPEC] [--arg NAME=VALUE ...] [--out FILE]",
              "lmp export-torch --hf ORG/NAME [--input SPEC] [--out FILE]" },
    options = {
      { "hf", "string", "ORG/NAME", "a transformers config (AutoConfig + from_config; needs transformers)" },
      { "input", "string", "SPEC", "what the forward takes: tokens[:S], image[:CxH], features:D[xS]" },
      { "arg", "list", "NAME=VALUE", "a keyword argument for MODULE's constructor (repeatable; JSON values)" },
      { "out", "string", "FILE", "write there (atomically) instead of to stdout" }, MODULES },
    text = [[
MODULE: a dotted path to a constructor (torchvision.models.resnet50) or file.py:function.
The model is built on the meta device and traced at batch 1-3 over a window of 96
consecutive sizes (sequence length, or image side); every shape becomes an exact formula
of batch_size and seq_len or image_size, checked at a further size. Default input: tokens
of 128 (a model with an Embedding) or a 3x224x224 image (one with a Conv2d). Classes with
no calculator are listed, each with the `lmp generate` command that writes one. Python:
LMP_PYTHON, else python3, else /usr/bin/python3 (the first that has torch).]] },
  { name = "models", summary = "the bundled models: id, file, top-level classes, parameters",
    usage = { "lmp models" }, options = { MODULES },
    text = "Each is used offline by its id: lmp analyze meta-llama/Llama-2-7b-hf." },
  { name = "module", summary = "list, show, check or run calculators",
    usage = { "lmp module list", "lmp module show CLASS", "lmp module check FILE [--db FILE]",
              "lmp module flops|memory|params|compute CLASS name=value ..." },
    options = { { "db", "string", "FILE", "the module_db.json whose entry `check` compares with" }, MODULES },
    text = [[
CLASS is a full class name (torch.nn.modules.linear.Linear), a public name (torch.nn.Linear)
or a db key (torch_Linear).
list: every calculator on the search path and where it comes from; show: a calculator's
parameters and its db entry; check: a hand-written calculator checked as generated ones
are; flops|memory|params|compute: run one calculator on name=value parameters.]] },
  { name = "db", summary = "prove module_db.json formulas agree with the calculators",
    usage = { "lmp db check [--db FILE]" },
    options = { { "db", "string", "FILE", "check FILE alone (default: the bundled db and your overlay)" }, MODULES } },
  { name = "generate", summary = "write a calculator and its db entry for CLASS with an LLM",
    usage = { "lmp generate --full-class-name CLASS [--source FILE | --source-root DIR] [--force]" },
    options = {
      { "full-class-name", "string", "CLASS", "the module class, e.g. torch.nn.modules.activation.Mish" },
      { "source", "string", "FILE", "the Python file that defines it" },
      { "source-root", "string", "DIR", "where to look for it (a transformers checkout, site-packages)" },
      { "provider", "string", "P", "anthropic or openai (an OpenAI-compatible server)" },
      { "llm-model", "string", "NAME", "the LLM model to ask" },
      { "max-rounds", "int", "N", "rounds of checking and asking again (default 3)" },
      { "max-llm-calls", "int", "N", "LLM calls this run makes at most (default 10; LMP_LLM_MAX_CALLS)" },
      { "force", "flag", nil, "replace an existing calculator or entry" }, MODULES },
    text = [[
The LLM: ANTHROPIC_API_KEY, or OPENAI_BASE_URL [+ OPENAI_API_KEY] (see README). The
calculator and its db entry go to $XDG_DATA_HOME/lmp (~/.local/share/lmp): modules/ and a
module_db.json overlay. Each call's tokens and estimated cost go to stderr.]] },
  { name = "script", summary = "run a Lua script with the lmp API, like `lua`", script = true,
    usage = { "lmp script.lua [args]", "lmp [-e STAT] [-l MOD] [-i] [-W] [-v] [--] [script.lua | -] [args]" },
    options = {
      { "e", nil, "STAT", "run the Lua statement STAT" },
      { "l", nil, "MOD", "require MOD into the global MOD" },
      { "i", nil, nil, "the REPL after the script (or alone: lmp -i)" },
      { "W", nil, nil, "print warn() messages" },
      { "v", nil, nil, "print the version" },
    },
    text = [[
The script sees `arg` and `...` as under lua, and the API as the global `lmp`; `-` reads
the chunk from stdin. `lmp` alone on a terminal (or `lmp repl`, `lmp -i`) starts the REPL.]] },
}
for _, c in ipairs(cli.COMMANDS) do cli.COMMANDS[c.name] = c end

-- the parser's spec of a command: option name -> kind
local function spec_of(command)
  local spec = {}
  for _, opt in ipairs(command.options) do spec[opt[1]] = opt[2] end
  return spec
end

local function option_rows(command)
  local lines = {}
  for _, opt in ipairs(command.options) do
    local dash = command.script and "-" or "--"
    local left = dash .. opt[1] .. (opt[3] and (" " .. opt[3]) or "")
    lines[#lines + 1] = ("  %-22s %s"):format(left, opt[4])
  end
  if not command.script then lines[#lines + 1] = ("  %-22s %s"):format("-h, --help", "this help") end
  return table.concat(lines, "\n")
end

-- `lmp CMD --help`
function cli.command_help(command)
  local usage = {}
  for k, u in ipairs(command.usage) do usage[k] = (k == 1 and "usage: " or "       ") .. u end
  return table.concat(usage, "\n") .. "\n\n" .. command.summary .. "\n\noptions:\n" .. option_rows(command) .. "\n" ..
    (command.text and ("\n" .. command.text:gsub("\n$", "") .. "\n") or "")
end

local EXIT_TEXT = [[
exit codes: 0 ok, 1 analysis incomplete (unknown modules), 2 bad usage or input, or
            stdout could not be written, 3 calculator error or overflow, 4 check failed,
            70 internal error]]

-- `lmp --help`
function cli.help()
  local lines = { ("lmp %s - FLOPs, parameters and memory traffic of PyTorch models, layer by layer"):format(lmp.version),
    "", "usage: lmp [--modules DIR] COMMAND [options]     (lmp help COMMAND, lmp COMMAND --help: its options)", "" }
  local function entry(usage, summary)
    for _, u in ipairs(usage) do lines[#lines + 1] = "  " .. u end
    lines[#lines + 1] = "        " .. summary
  end
  for _, c in ipairs(cli.COMMANDS) do entry(c.usage, c.summary) end
  entry({ "lmp", "lmp -i, lmp repl" }, "the Lua REPL (`lmp` with no arguments on a terminal)")
  local names = {}
  for k, c in ipairs(cli.COMMANDS) do names[k] = c.name end
  entry({ "lmp help [COMMAND], lmp COMMAND --help, lmp version" },
    "this help; a command's (" .. table.concat(names, ", ") .. "); the version")
  lines[#lines + 1] = ""
  lines[#lines + 1] = "MODEL: a model JSON file, a config.json or its folder, or an ORG/NAME model id."
  lines[#lines + 1] = "Every command takes --modules DIR (repeatable) before or after it: calculators searched"
  lines[#lines + 1] = "before the bundled ones. Counts take k = 1024 (--seq 8k); bits take names (--w-bits int4)."
  lines[#lines + 1] = ""
  lines[#lines + 1] = EXIT_TEXT
  return table.concat(lines, "\n") .. "\n"
end

-- "8k" -> 8192: a non-negative integer with an optional size suffix (nil when it is not)
function cli.parse_count(value)
  local digits, suffix = value:match("^(%d+)(%a?)$")
  local n, mult = digits and math.tointeger(tonumber(digits)), cli.SIZE_SUFFIX[suffix or ""]
  if not n or not mult or n > math.maxinteger // mult then return nil end
  return n * mult
end

-- "bf16" -> 16, "4" -> 4 (nil when it is neither)
function cli.parse_bits(value)
  local n = value:match("^%d+$") and math.tointeger(tonumber(value))
  if n then return n >= 1 and n <= 64 and n or nil end
  return BITS[value:lower()]
end

local function parse_error(command, name, value, what)
  usage_error(("%s: --%s expects %s, got '%s'"):format(command, name, what, value))
end

-- parse(args, spec, command) -> options, positionals. spec: option name -> kind (above);
-- --name VALUE or --name=VALUE. Usage errors name the command.
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
        usage_error(("%s: unknown option --%s (see lmp %s --help)"):format(command, name, command))
      end
      if kind == "flag" then
        if inline then usage_error(("%s: --%s takes no value"):format(command, name)) end
        opts[name] = true
        i = i + 1
        goto continue
      end
      local value = inline
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then usage_error(("%s: --%s needs a value"):format(command, name)) end
      end
      if kind == "int" then
        value = value:match("^%d+$") and math.tointeger(tonumber(value)) or parse_error(command, name, value,
          "a non-negative integer")
      elseif kind == "count" then
        value = cli.parse_count(value) or parse_error(command, name, value,
          "a non-negative integer such as 512 or 8k (k = 1024, M = 1024k)")
      elseif kind == "bits" then
        value = cli.parse_bits(value) or parse_error(command, name, value,
          "a number of bits from 1 to 64 or a name such as bf16, fp8, int4, nf4")
      elseif kind == "amount" then -- decimal: 300B is 3 x 10^11, 1.4T 1.4 x 10^12
        local num, suffix = value:match("^(%d+%.?%d*)([KMBGT]?)$")
        local mult = ({ [""] = 1, K = 1e3, M = 1e6, B = 1e9, G = 1e9, T = 1e12 })[suffix or ""]
        local v = num and math.tointeger(tonumber(num) * mult + 0.0)
        if not v or v < 1 then parse_error(command, name, value, "a number of tokens such as 2000000, 300B or 1.4T") end
        value = v
      elseif kind == "choice" then -- an input's names (core.INPUTS[...].choices)
        local row
        for _, r in ipairs(core.INPUTS) do if r.flag == name then row = r end end
        local ok = false
        for _, c in ipairs(row.choices) do ok = ok or c == value end
        if not ok then parse_error(command, name, value, util.either(row.choices)) end
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

-- ---- the model a command names ----

-- model_source(o, pos, command) -> kind, value: the one model of an analyze or export
-- command line. kind: "model-json" | "file" (a model JSON or a config.json: lmp.load
-- tells) | "config" | "model-id". A positional MODEL is an existing file or folder, else
-- an ORG/NAME id; --model-id beside --config only names the config's model.
local function model_source(o, pos, command)
  local found = {}
  if o["model-json"] then found[#found + 1] = { "model-json", o["model-json"] } end
  if o.config then found[#found + 1] = { "config", o.config } end
  if o["model-id"] and not o.config then found[#found + 1] = { "model-id", o["model-id"] } end
  if pos[2] then usage_error(("%s: unexpected argument '%s'"):format(command, pos[2])) end
  local m = pos[1]
  if m then
    local kind = core.file_kind(m)
    if kind == "directory" then
      found[#found + 1] = { "config", m }
    elseif kind then
      found[#found + 1] = { "file", m }
    elseif m:match("%.json$") or not m:match("^[%w][%w._-]*/?[%w._-]*$") then
      usage_error(("%s: %s: no such file or folder, and not a model id (ORG/NAME)"):format(command, m))
    else
      found[#found + 1] = { "model-id", m }
    end
  end
  if #found ~= 1 then
    usage_error(("%s: name one model: MODEL (a file, a folder or ORG/NAME), --model-json FILE, --config PATH " ..
      "or --model-id ORG/NAME"):format(command))
  end
  local kind, value = found[1][1], found[1][2]
  if o.revision and kind ~= "model-id" then usage_error(("%s: --revision goes with a model id"):format(command)) end
  return kind, value
end

local function load_model(o, pos, command)
  local kind, value = model_source(o, pos, command)
  if kind == "model-json" then return lmp.load_model(value) end
  if kind == "file" then return lmp.load(value) end
  if kind == "config" then return (lmp.load_config(value, { model_id = o["model-id"] })) end
  return (lmp.load_model_id(value, { revision = o.revision }))
end

-- ---- analyze ----

local ANALYZE_OPTS = spec_of(cli.COMMANDS.analyze)

-- the width the table fits: COLUMNS, else the terminal's, else (not a terminal) 100
local function table_width()
  local n = util.env_int("COLUMNS")
  if n and n > 0 then return n end
  return core.terminal_columns() or 100
end

-- analyze_options(args) -> options, inputs, format: the command line of `lmp analyze` parsed
-- and checked, every usage error it can have raised, without loading or analysing anything.
-- inputs is what lmp.analyze takes (lmp.generate's prompt_len and new_tokens with --phase
-- generate), already validated as they will be.
function cli.analyze_options(args)
  local o, pos = parse(args, ANALYZE_OPTS, "analyze")
  model_source(o, pos, "analyze")
  o.model = pos[1]
  local phase = o.phase or core.PHASES[1].name
  if not core.PHASES[phase] then
    usage_error("analyze: --phase must be " .. util.either(names_of(core.PHASES)) .. ", got '" .. phase .. "'")
  end
  if phase == "decode" and not o["kv-len"] then
    usage_error("analyze: --phase decode needs --kv-len N (tokens already in the KV cache)")
  end
  if (phase == "generate") ~= (o["new-tokens"] ~= nil) then
    usage_error("analyze: --new-tokens N goes with --phase generate (the prompt is --seq tokens)")
  end
  if (phase == "train" or phase == "generate") and o["kv-len"] then
    usage_error(("analyze: --phase %s starts from an empty KV cache; drop --kv-len"):format(phase))
  end
  local format = o.format or report.FORMATS[1].name
  if not report.FORMATS[format] then
    usage_error("analyze: --format must be " .. util.either(names_of(report.FORMATS)) .. ", got '" .. format .. "'")
  end
  if o.gpus and not o.hw then usage_error("analyze: --gpus N goes with --hw NAME (the memory of N of them)") end
  for _, k in ipairs({ "tp", "pp", "dp", "ep", "cp", "micro-batch", "global-batch", "virtual-stages", "gpus-per-node" }) do
    if o[k] == 0 then usage_error(("analyze: --%s must be at least 1"):format(k)) end
  end
  if o.tokens and phase ~= "train" then usage_error("analyze: --tokens (a training budget) goes with --phase train") end
  if (o.tp or o.pp or o.dp or o.ep or o.cp or o.zero or o.recompute) and phase == "generate" then
    usage_error("analyze: a parallel layout (--tp, --pp, --dp, --zero) goes with --phase prefill, decode or train")
  end
  if o.gpus == 0 then usage_error("analyze: --gpus must be at least 1") end
  local inputs = { phase = phase }
  for _, row in ipairs(core.INPUTS) do inputs[row.name] = o[row.flag] end
  if phase == "decode" and inputs.seq_len == nil then inputs.seq_len = 1 end
  local check = {} -- what lmp.analyze (or each step of lmp.generate) will check
  for k, v in pairs(inputs) do check[k] = v end
  if phase == "generate" then
    inputs.phase, inputs.seq_len = nil, nil
    inputs.prompt_len, inputs.new_tokens = o.seq or core.INPUTS.seq_len.default, o["new-tokens"]
    if inputs.new_tokens < 1 then usage_error("analyze: --new-tokens must be at least 1") end
    check.phase, check.seq_len, check.enc_len = "prefill", inputs.prompt_len, o["enc-len"] or inputs.prompt_len
    check.logits_len = o["logits-len"] or 1
  end
  lmp.inputs(check)
  return o, inputs, format
end

function cli.analyze(args)
  local o, inputs, format = cli.analyze_options(args)
  apply_modules(o)
  local phase = o.phase or core.PHASES[1].name
  local model = load_model(o, { o.model }, "analyze")
  local hws = o.hw and require("lmp.timing").hardware_list({ hw = o.hw }) or nil
  local function run()
    local run_opts = { depth = o.depth, hw = hws, gpus = o.gpus }
    if phase == "generate" then return lmp.generate(model, inputs, run_opts) end
    return lmp.analyze(model, inputs, run_opts)
  end
  local result = run()
  if o.sp and not o.tp then usage_error("analyze: --sp splits the sequence over the --tp ranks: give --tp N") end
  if o.tp or o.pp or o.dp or o.ep or o.cp or o.zero or o.recompute or o.tokens then
    result.layout = lmp.parallel(model, inputs, { tp = o.tp, pp = o.pp, dp = o.dp, ep = o.ep, sp = o.sp, cp = o.cp, zero = o.zero,
      recompute = o.recompute,
      tokens = o.tokens,
      micro_batch = o["micro-batch"], global_batch = o["global-batch"], virtual_stages = o["virtual-stages"],
      gpus_per_node = o["gpus-per-node"] }, { hw = hws })
  end
  local failure
  if not result.complete and cli.generation_wanted(o) then
    local ok, err = pcall(cli.fill_unknown, model, result, o, inputs)
    if not ok and not core.is_error(err) then error(err, 0) end -- a bug in lmp
    failure = not ok and err or nil
    result = run() -- a calculator written before a failure counts too
  end
  out(report.format(result, format, { width = table_width(), fit_depth = o.depth == nil }))
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
    local err = function (s) io.stderr:write("lmp: " .. report.visible(s) .. "\n") end -- names from the model file
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
  if o.offline and o.generate then usage_error("analyze: --offline and --generate exclude each other") end
  if o.offline then return false end
  local v = util.env("LMP_GENERATE") or ""
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
  local line = require("lmp.agent.llm").total_line()
  if line then io.stderr:write("lmp: LLM total: " .. line .. "\n") end
end

local function agent_opts(o, extra)
  local opts = { source_root = o["source-root"], source = o.source, force = o.force, max_rounds = o["max-rounds"],
                 llm = { provider = o.provider, model = o["llm-model"], max_calls = o["max-llm-calls"] },
                 log = function (msg) io.stderr:write("lmp: " .. msg .. "\n") end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return opts
end

-- the unknown-module path of analyze --generate: write a calculator for each unknown class
-- (checked with the parameters of the first layer that uses it), or raise why not
function cli.fill_unknown(model, result, o, inputs)
  if inputs.prompt_len then -- --phase generate: the layers as its prefill sees them
    local prefill = {}
    for _, row in ipairs(core.INPUTS) do prefill[row.name] = inputs[row.name] end
    inputs, prefill.seq_len = prefill, inputs.prompt_len
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
  for _, row in ipairs(core.INPUTS) do runtime[row.name] = full.inputs[row.name] end
  for _, u in ipairs(result.unknown_modules) do
    require("lmp.agent").generate(u.class, agent_opts(o, { layer_params = params_of[u.class], runtime = runtime }))
  end
end

-- ---- generate ----

function cli.generate(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.generate), "generate")
  if #pos > 0 then usage_error("generate: unexpected argument '" .. pos[1] .. "'") end
  apply_modules(o)
  if not o["full-class-name"] then usage_error("generate: --full-class-name CLASS is required") end
  local ok, r = pcall(require("lmp.agent").generate, o["full-class-name"], agent_opts(o))
  cli.print_spent()
  if not ok then error(r, 0) end
  out(("%s: %s written after %d round%s\n"):format(o["full-class-name"], r.file, r.rounds, r.rounds == 1 and "" or "s"))
  return EXIT.OK
end

-- ---- export ----

function cli.export(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.export), "export")
  local kind, value = model_source(o, pos, "export")
  local hub = require "lmp.hub"
  local text
  local bundled = kind == "model-id" and not o.revision and hub.bundled(value)
  if bundled then
    text = core.read_file(bundled.path) -- exactly what exporting its published config gives
  else
    local path = kind == "model-id" and hub.config_path(value, o.revision) or value
    local config, source = lmp.read_config(path)
    if config.layers ~= nil then
      usage_error(("export: %s is a model file already (export builds one from a config.json)"):format(source))
    end
    local model = lmp.build(config, { source = source, model_id = o["model-id"] or (kind == "model-id" and value or nil) })
    text = lmp.model_json(model)
    core.load_model_string(text, source) -- what we write must load
  end
  if o.out then
    local ok, err = core.write_file_atomic(o.out, text)
    if not ok then usage_error("export: " .. err) end
  else
    out(text)
  end
  return EXIT.OK
end

-- ---- export-torch ----

cli["export-torch"] = function(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS["export-torch"]), "export-torch")
  apply_modules(o)
  if pos[2] then usage_error("export-torch: unexpected argument '" .. pos[2] .. "'") end
  if (pos[1] ~= nil) == (o.hf ~= nil) then
    usage_error("export-torch: name one model: MODULE (torchvision.models.resnet50, file.py:function) or --hf ORG/NAME")
  end
  local doc, summary = require("lmp.export_torch").run({ module = pos[1], hf = o.hf, input = o.input, args = o.arg })
  local text = lmp.model_json(doc)
  local model = lmp.load_model_string(text, "the export")
  local params = lmp.analyze(model, { seq_len = 1 }, { depth = 0 }).totals.params
  local err = io.stderr
  if #summary.unknown > 0 then
    err:write(("export-torch: %d class%s without a calculator (their layers are reported unknown until one is written):\n")
      :format(#summary.unknown, #summary.unknown == 1 and "" or "es"))
    for _, cls in ipairs(summary.unknown) do err:write("  lmp generate --full-class-name " .. cls .. "\n") end
  elseif tostring(params) ~= tostring(summary.torch_params) then
    usage_error(("export-torch: lmp counts %s parameters, PyTorch %s: a calculator disagrees with its module")
      :format(report.grouped(params), report.grouped(summary.torch_params)))
  end
  if type(summary.fixed) == "string" then
    err:write(("export-torch: the model takes %s %d only (at %d: %s); the file keeps it fixed\n")
      :format(summary.var, summary.size, summary.size - 1, summary.fixed))
  end
  if o.out then
    local ok, werr = core.write_file_atomic(o.out, text)
    if not ok then usage_error("export-torch: " .. werr) end
    err:write(("export-torch: %s: %s parameters (PyTorch counts %s)\n")
      :format(o.out, report.grouped(params), report.grouped(summary.torch_params)))
  else
    out(text)
  end
  return #summary.unknown > 0 and EXIT.INCOMPLETE or EXIT.OK
end

-- ---- models ----

-- the bundled models, with the parameters lmp counts for each
function cli.models(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.models), "models")
  if #pos > 0 then usage_error("models: unexpected argument '" .. pos[1] .. "'") end
  apply_modules(o)
  local list = require("lmp.hub").bundled_models()
  local rows, w = { { "id", "file", "top-level classes", "params" } }, { 0, 0, 0, 0 }
  for _, m in ipairs(list) do
    local totals = lmp.analyze(lmp.load_model(m.path), { seq_len = 1 }, { depth = 0 }).totals
    rows[#rows + 1] = { m.id, m.file, m.classes, report.grouped(totals.params) }
  end
  for _, r in ipairs(rows) do
    for k, cell in ipairs(r) do w[k] = math.max(w[k], #cell) end
  end
  for _, r in ipairs(rows) do
    out(("%-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] .. "s  %" .. w[4] .. "s\n"):format(table.unpack(r)))
  end
  out(("%d models in %s\n"):format(#list, require("lmp.hub").bundled_dir()))
  return EXIT.OK
end

-- ---- hw ----

local function hw_show(spec)
  local hw = lmp.hardware(spec)
  local hardware = require "lmp.hardware"
  local lines = { ("%s: %s%s"):format(hw.name, hw.title or "", hw.file and ("  (" .. hw.file .. ")") or "") }
  for _, f in ipairs(hardware.FIELDS) do
    local v = hw[f[1]]
    if v ~= nil then
      local text
      if type(v) == "table" then
        local parts = {}
        for _, d in ipairs(hardware.DTYPES) do if v[d] then parts[#parts + 1] = ("%s %g"):format(d, v[d]) end end
        text = table.concat(parts, ", ")
      else
        text = ("%g"):format(v)
      end
      lines[#lines + 1] = ("  %-16s %s %s"):format(f[1], text, f[4])
      lines[#lines + 1] = ("  %-16s   source: %s"):format("", hw.sources[f[1]])
    end
  end
  lines[#lines + 1] = "  efficiency (lmp's time model" .. (hw.calibration and ", calibrated" or "") .. "):"
  for _, e in ipairs(hardware.EFFICIENCY) do
    lines[#lines + 1] = ("    %-20s %g"):format(e[1], hw.efficiency[e[1]])
  end
  local own = {}
  for cls in pairs(hw.efficiency.classes) do own[#own + 1] = cls end
  table.sort(own)
  for _, cls in ipairs(own) do
    local c = hw.efficiency.classes[cls]
    lines[#lines + 1] = ("    %s: %s%s"):format(cls, c.compute and ("compute %g "):format(c.compute) or "",
      c.memory and ("memory %g"):format(c.memory) or "")
  end
  if hw.note then lines[#lines + 1] = "  note: " .. hw.note end
  out(table.concat(lines, "\n") .. "\n")
end

function cli.hw(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.hw), "hw")
  apply_modules(o)
  local sub = pos[1]
  if sub == "list" and #pos == 1 then
    local rows, w = { { "name", "title", "memory", "bandwidth", "bf16 dense", "power", "from" } }, {}
    for _, h in ipairs(lmp.hardware_list()) do
      local hw = h.hw
      if hw then
        local t = hw.tensor_TFLOPS
        rows[#rows + 1] = { h.name, hw.title or "", ("%g GiB"):format(hw.memory_GiB), ("%g GB/s"):format(hw.memory_GBps),
          (t.bf16 or t.fp16) and ("%g TFLOP/s"):format(t.bf16 or t.fp16) or "-", hw.power_W and ("%g W"):format(hw.power_W) or "-",
          h.origin }
      else
        rows[#rows + 1] = { h.name, "(unreadable: " .. h.error .. ")", "", "", "", "", h.origin }
      end
    end
    for _, r in ipairs(rows) do for k, cell in ipairs(r) do w[k] = math.max(w[k] or 0, #cell) end end
    for _, r in ipairs(rows) do
      local cells = {}
      for k, cell in ipairs(r) do
        cells[k] = (k >= 3 and k <= 6) and (string.rep(" ", w[k] - #cell) .. cell) or (cell .. string.rep(" ", w[k] - #cell))
      end
      out((table.concat(cells, "  "):gsub("%s+$", "")) .. "\n")
    end
    return EXIT.OK
  elseif sub == "show" and #pos == 2 then
    hw_show(pos[2])
    return EXIT.OK
  end
  usage_error("hw: expected `lmp hw list` or `lmp hw show NAME|FILE` (see lmp hw --help)")
end

-- ---- serve ----

function cli.serve(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.serve), "serve")
  apply_modules(o)
  model_source(o, pos, "serve")
  if not o.hw then usage_error("serve: --hw NAME|FILE is needed (lmp hw list)") end
  if not o.context and not o.batch then usage_error("serve: give --context N (the largest batch) or --batch N (the longest context)") end
  local format = o.format or "table"
  if format ~= "table" and format ~= "json" then usage_error("serve: --format must be table or json, got '" .. format .. "'") end
  local acceptance = o.acceptance and tonumber(o.acceptance)
  if o.acceptance and not acceptance then usage_error("serve: --acceptance must be a number from 0 to 1") end
  for _, k in ipairs({ "tp", "pp", "block-tokens", "draft-tokens" }) do
    if o[k] == 0 then usage_error(("serve: --%s must be at least 1"):format(k)) end
  end
  local model = load_model(o, pos, "serve")
  local hw = lmp.hardware(o.hw)
  local bits = { w_bits = o["w-bits"], a_bits = o["a-bits"], kv_bits = o["kv-bits"], attention = o.attention }
  local function rank(m, layout)
    return function (inputs, timed)
      for k, v in pairs(bits) do inputs[k] = v end
      return lmp.parallel(m, inputs, layout, { hw = timed and hw or nil })
    end
  end
  local layout = { tp = o.tp, pp = o.pp }
  local gpus = (o.tp or 1) * (o.pp or 1)
  local serving = require "lmp.serving"
  local config = model.config or {}
  local ctx = { parallel = rank(model, layout), hw = hw, gpus = gpus, block = o["block-tokens"] or serving.BLOCK_TOKENS,
                max_positions = math.type(config.max_position_embeddings) == "integer" and config.max_position_embeddings or nil }
  local plan = serving.plan(ctx, { context = o.context, batch = o.batch, prompt = o.prompt })
  if o.draft and plan.served_batch then
    local draft = core.file_kind(o.draft) and lmp.load(o.draft) or lmp.load_model_id(o.draft)
    local k, a = o["draft-tokens"] or 4, acceptance or 0.7
    local kv = (plan.served_context + ctx.block - 1) // ctx.block * ctx.block - 1
    local verify = ctx.parallel({ batch_size = plan.served_batch, seq_len = k + 1, kv_len = kv, phase = "decode" }, true)
    local dstep = rank(draft, layout)({ batch_size = plan.served_batch, seq_len = 1, kv_len = kv, phase = "decode" }, true)
    plan.speculative = serving.speculative(verify.timing.step_s, dstep.timing.step_s, k, a)
    plan.speculative.draft, plan.speculative.draft_tokens, plan.speculative.acceptance = draft.model_id or o.draft, k, a
  end
  plan.model_id, plan.hardware, plan.tp, plan.pp, plan.gpus = model.model_id, hw.name, o.tp or 1, o.pp or 1, gpus
  if format == "json" then
    out(report.to_json(plan) .. "\n")
    return EXIT.OK
  end
  local gib = 2 ^ 30
  local lines = { ("serving %s on %d x %s (tp %d, pp %d), the KV cache in blocks of %d tokens"):format(
    report.visible(model.model_id or "?"), gpus, hw.name, plan.tp, plan.pp, ctx.block),
    ("  usable memory a GPU: %.2f GiB (10%% kept for the runtime)"):format(plan.usable_bytes / gib) }
  if o.context then
    lines[#lines + 1] = plan.max_batch and ("  at a context of %s tokens: at most %s sequences"):format(
      report.grouped(o.context), report.grouped(plan.max_batch)) or ("  at a context of %s tokens: not one sequence fits")
      :format(report.grouped(o.context))
  end
  if o.batch then
    lines[#lines + 1] = plan.max_context and ("  at a batch of %s: contexts up to %s tokens"):format(
      report.grouped(o.batch), report.grouped(plan.max_context)) or ("  at a batch of %s: not even 1 token fits")
      :format(report.grouped(o.batch))
  end
  if plan.ttft_s then
    lines[#lines + 1] = ("  serving %s sequence(s) of %s tokens, predicted: TTFT %s (a %s-token prompt), TPOT %s, %.0f tokens/s (%.0f a GPU)")
      :format(report.grouped(plan.served_batch), report.grouped(plan.served_context), report.seconds(plan.ttft_s),
        report.grouped(o.prompt or plan.served_context), report.seconds(plan.tpot_s), plan.tokens_per_s, plan.tokens_per_s_per_gpu)
  end
  local sp = plan.speculative
  if sp then
    lines[#lines + 1] = ("  speculative decoding (draft %s, %d tokens, acceptance %g): %.2f tokens a step, %s a token (%.2fx TPOT)")
      :format(report.visible(sp.draft), sp.draft_tokens, sp.acceptance, sp.tokens_per_step, report.seconds(sp.s_per_token),
        plan.tpot_s / sp.s_per_token)
  end
  out(table.concat(lines, "\n") .. "\n")
  return EXIT.OK
end

-- ---- plan ----

function cli.plan(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.plan), "plan")
  apply_modules(o)
  model_source(o, pos, "plan")
  if not o.context then usage_error("plan: --context N is needed (the tokens a sequence holds)") end
  local format = o.format or "table"
  if format ~= "table" and format ~= "json" then usage_error("plan: --format must be table or json, got '" .. format .. "'") end
  local function seconds(name)
    local v = o[name] and tonumber(o[name])
    if o[name] and (not v or v <= 0) then usage_error(("plan: --%s must be a positive number"):format(name)) end
    return v
  end
  local targets = { context = o.context, prompt = o.prompt, max_ttft = seconds("max-ttft"), max_tpot = seconds("max-tpot"),
                    min_throughput = seconds("min-throughput") }
  local max_gpus = o.gpus or 8
  if max_gpus < 1 then usage_error("plan: --gpus must be at least 1") end
  local prices = {}
  for _, p in ipairs(o.price or {}) do
    local name, usd = p:match("^([%w._-]+)=([%d.]+)$")
    if not name or not tonumber(usd) then usage_error(("plan: --price expects NAME=USD (h100-sxm=2.5), got '%s'"):format(p)) end
    prices[name] = tonumber(usd)
  end
  local widths = {}
  for w in (o["w-bits"] or "16"):gmatch("[^,]+") do
    local b = cli.parse_bits(w)
    if not b then usage_error(("plan: --w-bits expects bit widths such as 16,8,4, got '%s'"):format(w)) end
    widths[#widths + 1] = b
  end
  local hws = {}
  if o.hw then
    for _, name in ipairs(o.hw) do hws[#hws + 1] = lmp.hardware(name) end
  else
    for _, h in ipairs(lmp.hardware_list()) do if h.hw then hws[#hws + 1] = h.hw end end
  end
  local model = lmp.model_table(load_model(o, pos, "plan"))
  local serving = require "lmp.serving"
  local block = o["block-tokens"] or serving.BLOCK_TOKENS
  local config = model.config or {}
  local candidates = {}
  for _, hw in ipairs(hws) do
    for _, tp in ipairs({ 1, 2, 4, 8 }) do
      for _, pp in ipairs({ 1, 2, 4 }) do
        if tp * pp <= max_gpus and (tp * pp == 1 or hw.gpu_link_GBps or hw.network_GBps or hw.host_link_GBps) then
          for _, w in ipairs(widths) do
            local layout = { tp = tp, pp = pp }
            local function rank(inputs, timed)
              inputs.w_bits, inputs.kv_bits = w, o["kv-bits"]
              return lmp.parallel(model, inputs, layout, { hw = timed and hw or nil })
            end
            candidates[#candidates + 1] = { name = ("%s tp%d pp%d w%d"):format(hw.name, tp, pp, w), hw = hw, tp = tp, pp = pp,
              gpus = tp * pp, w_bits = w, price = prices[hw.name],
              ctx = { parallel = rank, hw = hw, gpus = tp * pp, block = block,
                      max_positions = math.type(config.max_position_embeddings) == "integer" and config.max_position_embeddings or nil } }
          end
        end
      end
    end
  end
  local t0 = core.now_us and core.now_us()
  local found = serving.search(candidates, targets)
  found.seconds = t0 and (core.now_us() - t0) / 1e6 or nil
  if format == "json" then
    out(report.to_json({ model_id = model.model_id, targets = targets, best = found.ok, failed = found.failed,
                         evaluated = found.evaluated, seconds = found.seconds }) .. "\n")
    return EXIT.OK
  end
  local lines = { ("plan for %s at a context of %s tokens: %d configurations tried%s"):format(
    report.visible(model.model_id or "?"), report.grouped(o.context), found.evaluated,
    found.seconds and (" in %.2f s"):format(found.seconds) or "") }
  local top = o.top or 5
  if #found.ok == 0 then
    lines[#lines + 1] = "  none meets the targets"
  else
    lines[#lines + 1] = "  rank  configuration                      GPUs  batch       TTFT       TPOT     tokens/s  a GPU   $/1M tokens"
    for i = 1, math.min(top, #found.ok) do
      local r = found.ok[i]
      lines[#lines + 1] = ("  %4d  %-33s %5d  %5d  %9s  %9s  %11.0f  %5.0f   %s"):format(i, report.visible(r.name), r.gpus, r.batch,
        report.seconds(r.ttft_s), report.seconds(r.tpot_s), r.tokens_per_s, r.tokens_per_s_per_gpu,
        r.usd_per_million_tokens and ("%.3f"):format(r.usd_per_million_tokens) or "-")
    end
  end
  local reasons = {}
  for reason, n in pairs(found.failed) do reasons[#reasons + 1] = ("%d %s"):format(n, reason) end
  table.sort(reasons)
  if #reasons > 0 then lines[#lines + 1] = "  failed: " .. table.concat(reasons, "; ") end
  lines[#lines + 1] = "  (times are predictions: docs/hardware.md; a configuration's batch is the largest that meets --max-tpot)"
  out(table.concat(lines, "\n") .. "\n")
  return EXIT.OK
end

-- ---- calibrate ----

local function pct(x) return ("%.1f%%"):format(100 * x) end

function cli.calibrate(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.calibrate), "calibrate")
  apply_modules(o)
  if not o.hw then usage_error("calibrate: --hw NAME|FILE is needed (the hardware the times were measured on)") end
  if #pos ~= 1 then usage_error("calibrate: expected one CSV of measurements (see lmp calibrate --help)") end
  local calibrate = require "lmp.calibrate"
  local hw = lmp.hardware(o.hw)
  local rep = calibrate.run(hw, pos[1], function (class, params) return lmp.compute(class, params) end,
    { loo = not o["no-loo"], per_class = o["per-class"] })
  local lines = { ("%s: %d measurements on %s"):format(pos[1], #rep.rows, hw.name), "",
    ("%-26s %10s %10s"):format("", "median", "worst") }
  local function row(label, st)
    local worst = st.worst_at and rep.rows[st.worst_at].label or ""
    lines[#lines + 1] = ("%-26s %10s %10s   (worst: %s)"):format(label, pct(st.median), pct(st.worst), worst)
  end
  row("error before (the file's)", rep.before)
  row("error after the fit", rep.after)
  if rep.loo then row("leave-one-out error", rep.loo) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "fitted:"
  for _, k in ipairs(rep.keys) do
    local was = rep.get(rep.start, k)
    lines[#lines + 1] = ("  %-20s %10.4g   (was %s)"):format(k, rep.get(rep.fitted, k), was and ("%g"):format(was) or "its class's")
  end
  local file = calibrate.calibrated_file(hw, rep, pos[1], o.name)
  if o.out then
    local ok, err = core.write_file_atomic(o.out, require("lmp.json").encode(file, { indent = 2 }) .. "\n")
    if not ok then usage_error(("calibrate: cannot write %s: %s"):format(o.out, err)) end
    lines[#lines + 1] = ("wrote %s (use it as --hw %s)"):format(o.out, o.out)
  end
  out(table.concat(lines, "\n") .. "\n")
  return EXIT.OK
end

-- ---- module ----

local function parse_value(s)
  if s == "true" or s == "True" then return true elseif s == "false" or s == "False" then return false end -- and Python's spelling
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
    if not k then usage_error("expected name=value, got '" .. kv .. "' (lmp module show CLASS lists the names)") end
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
    if spec.default ~= nil then extra = extra .. " default " .. spec_text(spec.default) end
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
  else -- the figures every module_db.json entry gives a formula for
    for _, f in ipairs(core.CALL_FIGURES) do
      if not f.db_optional then out(("%s %d\n"):format(f.name, r[f.name])) end
    end
  end
  return EXIT.OK
end

function cli.module(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.module), "module")
  apply_modules(o)
  local sub = pos[1]
  if sub == "list" then return module_list() end
  if sub == "show" then
    if not pos[2] then usage_error("module show: which CLASS? (lmp module show CLASS)") end
    return module_show(pos[2])
  end
  if sub == "flops" or sub == "memory" or sub == "params" or sub == "compute" then
    if not pos[2] then usage_error(("module %s: which CLASS? (lmp module %s CLASS name=value ...)"):format(sub, sub)) end
    return module_compute(sub, pos[2], parse_params({ table.unpack(pos, 3) }))
  end
  if sub == "check" then
    if not pos[2] then usage_error("module check: which FILE? (lmp module check FILE)") end
    local problems = lmp.check_calculator(pos[2], o.db)
    if #problems == 0 then
      out(("ok    %s\n"):format(pos[2]))
      return EXIT.OK
    end
    for _, p in ipairs(problems) do out(("FAIL  %s: %s\n"):format(pos[2], p)) end
    return EXIT.CHECK
  end
  usage_error("module: expected list, show, check, flops, memory, params or compute" ..
    (sub and (", got '" .. sub .. "'") or ""))
end

-- ---- db ----

function cli.db(args)
  local o, pos = parse(args, spec_of(cli.COMMANDS.db), "db")
  apply_modules(o)
  if pos[1] ~= "check" then usage_error("db: expected check" .. (pos[1] and (", got '" .. pos[1] .. "'") or "")) end
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

local function is_help(a) return a == "--help" or a == "-h" end

-- takes(word): true when `lmp word ...` is for main() below (a command, help, the version,
-- --modules); main.c asks, to tell these from a script of the same name
function cli.takes(word)
  local c = cli.COMMANDS[word]
  if c then return not c.script end
  return word == "help" or is_help(word) or word == "version" or word == "--version" or word == "--modules"
    or word:match("^%-%-modules=") ~= nil
end

-- main(argv): `lmp [--modules DIR]... COMMAND args`; COMMAND --help (or -h anywhere
-- among its arguments) and `lmp help COMMAND` print the command's help
function cli.main(argv)
  local i, global = 1, {} -- --modules before the command: the same as after it
  while argv[i] == "--modules" or (argv[i] or ""):match("^%-%-modules=") do
    if argv[i] == "--modules" and argv[i + 1] == nil then usage_error("--modules needs a value") end
    local n = argv[i] == "--modules" and 2 or 1
    table.move(argv, i, i + n - 1, #global + 1, global)
    i = i + n
  end
  local cmd = argv[i]
  local rest = table.move(global, 1, #global, #argv - i + 1, { table.unpack(argv, i + 1) })
  if cmd == nil or cmd == "help" or is_help(cmd) then
    local topic = cmd == "help" and rest[1]
    if topic and topic:sub(1, 1) ~= "-" then
      local c = cli.COMMANDS[topic]
      if not c then usage_error(("help: no command '%s' (see lmp --help)"):format(topic)) end
      out(cli.command_help(c))
    else
      out(cli.help())
    end
    return EXIT.OK
  elseif cmd == "version" or cmd == "--version" then
    out(("lmp %s (%s)\n"):format(lmp.version, _VERSION))
    return EXIT.OK
  elseif cli.COMMANDS[cmd] and not cli.COMMANDS[cmd].script then
    for _, a in ipairs(rest) do
      if is_help(a) then
        out(cli.command_help(cli.COMMANDS[cmd]))
        return EXIT.OK
      end
    end
    return cli[cmd](rest)
  end
  usage_error("unknown command '" .. tostring(cmd) .. "' (see lmp --help)")
end

return cli
