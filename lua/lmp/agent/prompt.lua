-- The agent's prompt. Edit freely: it is plain text assembled from the module's source, the
-- formats of docs/calculators.md, and worked examples read from the bundled database.
local core = require "lmp.core"

local prompt = {}

-- the runtime variables a layer's parameters may leave to the analysis
local RUNTIME = {}
for i, row in ipairs(core.INPUTS) do RUNTIME[i] = row.name end

-- the worked examples shown to the model: a hand-written calculator with weights (the five
-- functions spelled out), a factory-made GEMM, attention
prompt.EXAMPLES = { "torch_Embedding", "torch_Linear", "torch_scaled_dot_product_attention" }

prompt.SYSTEM = [[
You write cost calculators for lmp, a tool that counts the FLOPs, parameters and memory
traffic of PyTorch modules exactly. For the module you are given, you produce:

1. a module_db.json entry, as one ```json fenced block holding one JSON object with the
   fields full_class_name, code_location {file, line_start}, flop_analysis
   {thinking_process, parameters [{name, type, description}], calculation_formula,
   matmul_calculation_formula, module_depends []}, params_analysis {calculation_formula},
   memory_analysis {reads_calculation_formula, writes_calculation_formula,
   intermediates_calculation_formula, weights_calculation_formula (when it has weights)},
   backward_analysis {calculation_formula, matmul_calculation_formula};
2. the Lua calculator, as one ```lua fenced block, returning a table with full_class_name,
   required_parameters, flops, matmul_flops, params, memory, backward.

Formulas use ${param} for parameters (booleans are 1 and 0; strings compare with 'text'),
integer literals, + - * / (exact division) // % ( ), min, max, ceil, floor, comparisons,
&& || ! and c ? a : b. Every formula must give a non-negative integer and must agree
exactly with the Lua calculator for every valid parameter set. The parameter list of the
entry and required_parameters of the calculator must name the same parameters.

The calculator runs in a sandbox: only math, string, table, pairs, ipairs, next, select,
type, tostring, tonumber, error, assert, pcall and `kernels` exist. Every value it returns
must be a Lua integer (use // and kernels.*, never /). Use kernels.matmul, kernels.mul,
kernels.add, kernels.bytes, kernels.elementwise and kernels.COST / kernels.BACKWARD_COST.
Reply with the two fenced blocks and nothing that could be mistaken for them.
]]

local function read(path)
  local ok, text = pcall(core.read_file, path)
  return ok and text or nil
end

-- build(ctx) -> system, user
--   ctx.full_class_name, ctx.key, ctx.file (the calculator file to write)
--   ctx.source {file, line, text} or nil; ctx.layer_params: what a model JSON gives the layer
--   ctx.home: where docs/ and modules_lua/ are; ctx.db: the module database (examples)
--   ctx.feedback: problems found in the previous reply, and ctx.previous: that reply
function prompt.build(ctx)
  local json = require "lmp.json"
  local parts = {}
  local function add(s) parts[#parts + 1] = s end
  local doc = read(ctx.home .. "/docs/calculators.md")
  if doc then add("# The calculator contract (docs/calculators.md)\n\n" .. doc) end
  add([[
# Numeric conventions
FLOPs count a multiply-add as 2. matmul_flops counts matrix products only (what PyTorch's
FlopCounterMode reports); flops adds elementwise work at the per-element costs of
kernels.COST. Parameters are counted as model.num_parameters() does (buffers excluded).
Bytes: a call reads its inputs and weights and writes its outputs, no fusion: activations
at a_bits, weights at w_bits, K/V at kv_bits, integer indices at 64 bits.]])
  add("# Worked examples")
  local registry = require "lmp.registry"
  for _, key in ipairs(prompt.EXAMPLES) do
    local entry = ctx.db and ctx.db[key]
    local calc_text = read(ctx.home .. "/modules_lua/" .. registry.snake_case(key) .. ".lua")
    if entry and calc_text then
      add(("## %s\n```json\n%s\n```\n```lua\n%s```"):format(key, json.encode(entry, { indent = 2 }), calc_text))
    end
  end
  add(("# Your module\nfull_class_name: %s\ndb key: %s\ncalculator file: %s"):format(
    ctx.full_class_name, ctx.key, ctx.file))
  if ctx.source then
    add(("Its source (%s, line %d):\n```python\n%s\n```"):format(ctx.source.file, ctx.source.line, ctx.source.text))
  else
    add("Its source could not be found; work from what the class name and PyTorch conventions tell you, and say so in thinking_process.")
  end
  if ctx.layer_params and next(ctx.layer_params) then
    local names = {}
    for k, v in pairs(ctx.layer_params) do names[#names + 1] = ("%s = %s"):format(k, tostring(v)) end
    table.sort(names)
    add("The model gives this layer these parameters; use these names: " .. table.concat(names, ", ") ..
      ". The runtime variables " .. table.concat(RUNTIME, ", ") .. " are filled in when required.")
  end
  if ctx.feedback then
    add("# Your previous reply was refused\n" .. table.concat(ctx.feedback, "\n") ..
      "\nReply again with both corrected blocks.")
  end
  return prompt.SYSTEM, table.concat(parts, "\n\n")
end

-- fenced(reply, tag) -> the text of the first ```TAG block: from the line after the one that
-- ends with ```TAG (blanks allowed after it) to the next line that starts with ``` (blanks
-- allowed before it), each line ending in "\n"; nil when there is none. Linear: plain finds
-- and scans over blanks only (an unanchored .- and %s* pattern was quadratic: a 360 KB reply
-- took minutes).
local BLANK = { [32] = true, [9] = true, [13] = true, [12] = true, [11] = true }
function prompt.fenced(reply, tag)
  local opener, pos = "```" .. tag, 1
  local start
  repeat -- the opener: ```TAG, blanks, a newline
    local s = reply:find(opener, pos, true)
    if not s then return nil end
    local e = s + #opener
    while BLANK[reply:byte(e)] do e = e + 1 end
    if reply:byte(e) == 10 then start = e + 1 end
    pos = e
  until start
  pos = start
  while true do -- the closer: ``` after a newline and blanks
    local c = reply:find("```", pos, true)
    if not c then return nil end
    local j = c - 1
    while j >= start and BLANK[reply:byte(j)] do j = j - 1 end
    if j < start or reply:byte(j) == 10 then return reply:sub(start, j) end
    pos = c + 3
  end
end

-- parse(reply) -> entry table, lua text; or nil, problem
function prompt.parse(reply)
  local json_text = prompt.fenced(reply, "json")
  local lua_text = prompt.fenced(reply, "lua")
  if not json_text then return nil, "no ```json block with the module_db.json entry" end
  if not lua_text then return nil, "no ```lua block with the calculator" end
  local ok, entry = pcall(core.json_decode, json_text, "the json block")
  if not ok then return nil, "the json block does not parse: " .. tostring(entry) end
  if type(entry) ~= "table" or #entry > 0 then return nil, "the json block must hold one JSON object, the entry" end
  return entry, lua_text
end

return prompt
