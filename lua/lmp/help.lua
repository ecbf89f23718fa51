-- help() in the REPL: each documented function's signature and first paragraph.
-- help.ENTRIES repeats docs/lua-api.md's `### lmp.*` and `### result:*` headings and the
-- paragraph under each, in the guide's order; spec/repl/help_spec.lua fails when the two
-- differ (edit both; line breaks do not matter).
local help = {}

help.ENTRIES = {
  { sig = "lmp.load_model(path) -> model",
    text = [[
Loads and checks a model file. The model is a handle with a few fields: `model_id`,
`file`, `config` (the file's `config` table, or nil), `layer_count`, `basic_layer_count`.]] },
  { sig = "lmp.load_model_string(json_text [, name]) -> model",
    text = [[
The same from a string; `name` stands for the file in error messages.]] },
  { sig = "lmp.read_config(path) -> config, path",
    text = [[
Decodes a Hugging Face `config.json`, or the `config.json` inside a folder (a local
snapshot).]] },
  { sig = "lmp.build(config [, opts]) -> model table",
    text = [[
Runs the builder of the config's `model_type` (llama, mistral, mixtral, qwen2, gemma, phi,
gpt2, gpt_neox, opt, bloom, falcon, bert, t5) and returns the model as a Lua table in the
file format. `opts.model_id` names it (default: the config's `_name_or_path`, else its
`model_type`); `opts.source` names the config in errors.]] },
  { sig = "lmp.model_json(model_table) -> text",
    text = [[
The model table as model-file JSON (keys in reading order, exact integers), to save it or
to load it with `lmp.load_model_string`.]] },
  { sig = "lmp.load_config(path [, opts]) -> model, model table",
    text = [[
`read_config`, `build` and `load_model_string` in one call. The model is named by
`opts.model_id`, else by the path when it is a Hugging Face cache snapshot
(`.../models--ORG--NAME/snapshots/...`), else as `build` names it.]] },
  { sig = "lmp.load_model_id(id [, opts]) -> model, model table",
    text = [[
A Hugging Face model id: its `config.json` from the Hugging Face cache (`HF_HUB_CACHE`,
else `HF_HOME/hub`, else `~/.cache/huggingface/hub`), else lmp's cache (`LMP_CACHE`, else
`~/.cache/lmp`), else downloaded from `HF_ENDPOINT` (`HF_TOKEN` for gated models) and kept
in lmp's cache. `HF_HUB_OFFLINE=1` forbids the download; `opts.revision` picks a branch or
commit (default `main`).]] },
  { sig = "lmp.load(path) -> model",
    text = [[
A model from whatever `path` holds: a model file, a Hugging Face `config.json`, or a folder
with a `config.json` in it (`load_model` or `load_config`, told apart by the file's
`layers` or `model_type`).]] },
  { sig = "lmp.inputs(given) -> inputs",
    text = [[
Fills in the defaults and checks every value (what `analyze` does with its second
argument). `lmp.DEFAULT_INPUTS` holds the defaults.]] },
  { sig = "lmp.analyze(model_or_path, inputs [, opts]) -> result",
    text = [[
`model_or_path` is a model or a model file's path; `opts.depth` limits how many levels of
the tree the result keeps (the totals are always the whole model's). Analyses are fast
(milliseconds: each distinct layer is priced once), so sweeping inputs in a loop is fine.]] },
  { sig = "result:nodes() -> iterator of node, depth",
    text = [[
Every node the result keeps, depth first, in tree order.]] },
  { sig = "result:find(pattern [, field]) -> nodes",
    text = [[
The nodes whose path or class matches a Lua pattern, in tree order; with `field`, the nodes
whose `node[field]` (a string) matches.]] },
  { sig = "result:basic_layers() -> nodes",
    text = [[
The leaves of the tree kept: the basic layers when the tree is whole. (With `opts.depth`,
the composite nodes cut off at that depth are leaves too; analyse without `depth` when you
need the basic layers.)]] },
  { sig = "result:format(fmt) -> text",
    text = [[
The same as `lmp.format(result, fmt)`, see [Report formats](#report-formats-lmpformat).]] },
  { sig = "lmp.sweep(model_or_path, points [, opts]) -> list of totals",
    text = [[
Many analyses of one model at once, for grids and sweeps: `points` is a list of inputs
tables, the answer a list of their `totals` (no tree, no footprint), in order; a layer whose
parameters recur across points is priced once. `opts.phase` applies to every point that
does not name its own.]] },
  { sig = "lmp.generate(model_or_path, inputs [, opts]) -> result",
    text = [[
What `generate(max_new_tokens = new_tokens)` runs: a prefill of `prompt_len` tokens, then
`new_tokens - 1` decode steps of one token over `prompt_len`, `prompt_len + 1`, ... cached
tokens. The other inputs (`batch_size`, bit widths) are as for `analyze`. The totals are
the whole generation, summed exactly in closed form (a few analyses, however many steps);
`steps.prefill` and `steps.decode` hold the two parts; the tree is the prefill's;
`state_bytes` is the cache after the last step.]] },
  { sig = "lmp.get_required_parameters(name) -> { param = type }",
    text = [[
The parameters the calculator of `name` takes, each with its type (`int`, `posint`,
`bool`, ...).]] },
  { sig = "lmp.compute_flops / compute_matmul_flops / compute_params (name, params) -> integer",
    text = [[
One figure of one call: its FLOPs, the part of them in matrix products, or the module's
parameter count.]] },
  { sig = "lmp.compute_memory(name, params) -> { reads, writes, intermediates, weights, state }",
    text = [[
Bytes. `weights` is the part of `reads` that is weights; `state`, what the module holds
afterwards (only the KV-cache layer has any).]] },
  { sig = "lmp.compute(name, params [, with_backward]) -> all figures",
    text = [[
`{ flops, matmul_flops, params, reads, writes, intermediates, weights, state,
backward_flops, backward_matmul_flops }`; the backward figures are 0 unless `with_backward`
is true (they need the calculator's `backward`).]] },
  { sig = "lmp.compute_backward(name, params) -> { flops, matmul_flops }",
    text = [[
The backward pass of one call: for a Linear, the input and the weight gradient (each the
size of the forward product) and the bias gradient.]] },
  { sig = "lmp.register(calculator) -> calculator object",
    text = [[
Checks the table like a calculator file (same fields; parameters validated before every
call, results checked) and puts it ahead of every file for its class, for the rest of the
script. The functions run in the script's environment, which has no `kernels` global: use
`lmp.kernels`.]] },
  { sig = "lmp.check_calculator(path_or_table [, db_path]) -> problems",
    text = [[
The checks `lmp generate` puts an LLM-written calculator through: it loads, has every
field, and on its sample parameters returns non-negative integers; when `module_db.json`
(or `db_path`) has an entry for its class, the entry's formulas must agree with it. An
empty list means it passes.]] },
  { sig = "lmp.eval(formula, vars [, resolve]) -> integer",
    text = [[
Evaluates a `${name}` formula, the language of model parameters and `module_db.json`,
exactly: `+ - * / // %`, parentheses, `min max ceil floor`, comparisons, `&& || !`,
`c ? a : b`, strings in single or double quotes (compared with `==`, `!=`). Values are
128-bit rationals; the result must be an integer. `vars` values are integers, booleans,
strings or floats (taken exactly); `resolve(name)` supplies the value of a `{Module}`
reference.]] },
  { sig = "lmp.format(result, fmt) -> text",
    text = [[
`fmt` is `table` (the `lmp analyze` report: the tree with rounded figures, then exact
totals and the footprint), `json` (everything, exact integers), `csv` (one row per node
kept, with its figures for one instance and over all its instances, and the run's inputs;
[docs/csv.md](csv.md) lists the columns) or `markdown`. `result:format(fmt)` is the same.]] },
  { sig = "lmp.json_decode(text [, name]) -> value",
    text = [[
Integers decode exactly as 64-bit Lua integers (a larger one is an error, never a rounded
float), other numbers as floats, `null` as `lmp.null`; errors give `name:line:col`.]] },
}

-- "lmp.compute_flops / compute_matmul_flops / compute_params (name, params)" ->
-- { "lmp.compute_flops", "lmp.compute_matmul_flops", "lmp.compute_params" }
local function names_of(sig)
  local head = sig:match("^([^(]*)"):gsub("%s+$", "")
  local out = {}
  for name in head:gmatch("[^/%s]+") do
    if not name:find("[.:]") then name = "lmp." .. name end
    out[#out + 1] = name
  end
  return out
end

-- the value a name stands for: lmp.x.y from the globals, result:m a method of lmp.Result
local function value_of(name)
  local method = name:match("^result:(.+)$")
  if method then return require("lmp").Result[method] end
  local v = _G
  for part in name:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

-- the entry for a function value or a name ("lmp.analyze", "analyze", "result:find")
function help.find(x)
  for _, e in ipairs(help.ENTRIES) do
    for _, name in ipairs(names_of(e.sig)) do
      if (type(x) == "function" and value_of(name) == x) or x == name or
         (type(x) == "string" and "lmp." .. x == name) then return e end
    end
  end
end

-- one paragraph at `width` columns; [text](link) shows as text
local function wrap(text, width)
  text = text:gsub("%[([^%]]*)%]%([^)]*%)", "%1")
  local lines, line = {}, ""
  for word in text:gmatch("%S+") do
    if line ~= "" and #line + 1 + #word > width then
      lines[#lines + 1] = line
      line = word
    else
      line = line == "" and word or (line .. " " .. word)
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- help() lists the functions; help(f) or help("name") prints one
function help.help(x)
  if x == nil or x == require("lmp") then
    print("Functions (help(lmp.analyze) for one; docs/lua-api.md has examples):")
    for _, e in ipairs(help.ENTRIES) do print("  " .. e.sig) end
    local other = {}
    for k, v in pairs(require("lmp")) do
      if type(v) == "function" and not help.find(v) then other[#other + 1] = "lmp." .. k end
    end
    table.sort(other)
    if #other > 0 then print("Without help here (see docs/lua-api.md): " .. table.concat(other, ", ")) end
    return
  end
  local e = help.find(x)
  if e then
    print(e.sig .. "\n\n" .. wrap(e.text, 78))
  else
    print(("no help for %s: help() lists the documented functions"):format(
      type(x) == "string" and x or type(x)))
  end
end

return help
