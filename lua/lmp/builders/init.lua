-- Builders: a Hugging Face config.json (as a Lua table) -> the standard model table
-- (docs/model-format.md). One module per architecture family, under lmp.builders.<family>;
-- each exports `model_types` (the config's model_type values it handles) and
-- `build(cfg, b)` -> list of top-level layers, where cfg is a checked config reader and b
-- the layer constructors of lmp.builders.common.
local core = require "lmp.core"
local common = require "lmp.builders.common"

local builders = {}

-- families in the order `lmp` lists them
builders.FAMILIES = { "llama", "mistral", "mixtral", "qwen2", "gemma", "gemma2", "gemma3", "phi", "gpt2", "gpt_neox", "opt",
                      "bloom", "falcon", "bert", "t5",
                      "qwen3", "qwen2_moe", "qwen3_moe", "olmo2", "granite", "starcoder2", "phi3", "mamba2",
                      "llama4", "gpt_oss", "deepseek_v2", "deepseek_v3" }

local by_type -- model_type -> family module, filled on first use

local function index()
  if by_type then return by_type end
  by_type = {}
  for _, family in ipairs(builders.FAMILIES) do
    local ok, mod = pcall(require, "lmp.builders." .. family)
    if ok then
      for _, t in ipairs(mod.model_types) do by_type[t] = mod end
    elseif not tostring(mod):find("module 'lmp.builders." .. family .. "' not found", 1, true) then
      error(mod, 0) -- a broken builder is a bug, not a missing family
    end
  end
  return by_type
end

-- register(family): add a builder at run time (a script's own family, docs/builders.md):
-- family.model_types (non-empty list of strings) and family.build(cfg, b); it takes
-- precedence over a bundled builder of the same model_type
function builders.register(family)
  if type(family) ~= "table" or type(family.build) ~= "function" or type(family.model_types) ~= "table"
     or #family.model_types == 0 then
    error("builders.register: expected { model_types = { \"...\" }, build = function (cfg, b) ... end }", 2)
  end
  for _, t in ipairs(family.model_types) do
    if type(t) ~= "string" or t == "" then error("builders.register: model_types must be non-empty strings", 2) end
    index()[t] = family
  end
end

-- supported() -> sorted list of model_type values
function builders.supported()
  local list = {}
  for t in pairs(index()) do list[#list + 1] = t end
  table.sort(list)
  return list
end

local function edit_distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- closest(model_type) -> the supported model_type nearest to it, for the "not supported"
-- error (ties go to the first by name)
function builders.closest(model_type)
  local best, best_rank
  for _, t in ipairs(builders.supported()) do
    local n = 0
    while n < #t and n < #model_type and t:byte(n + 1) == model_type:byte(n + 1) do n = n + 1 end
    -- one a prefix of the other first (qwen2 for qwen2_vl, its text backbone, over qwen2_moe;
    -- gemma3_text for gemma3), then the longest shared prefix, then the smallest edit distance
    local rank = { (n == #t or n == #model_type) and 1 or 0, n, -edit_distance(model_type, t) }
    local better = not best
    for k = 1, 3 do
      if best and rank[k] ~= best_rank[k] then better = rank[k] > best_rank[k] break end
    end
    if better then best, best_rank = t, rank end
  end
  return best
end

-- build(config, opts) -> model table { model_id, encoder_only, attention, config, layers };
-- encoder_only when the family's module says so (BERT: no KV cache, no generation), attention
-- (the family's attn_implementation) when its transformers class has no SDPA path and runs
-- eager (BLOOM, T5)
--   config: the decoded config.json; opts.source names it in errors; opts.model_id
function builders.build(config, opts)
  opts = opts or {}
  local source = opts.source or "config.json"
  if type(config) ~= "table" or #config > 0 then -- a JSON array decodes to a sequence
    core.error(core.EXIT.USAGE, source .. ": a config is a JSON object")
  end
  local model_type = config.model_type
  if type(model_type) ~= "string" then
    core.error(core.EXIT.USAGE, source .. ": no \"model_type\" (the field that names the architecture)")
  end
  local family = index()[model_type]
  if not family then
    core.error(core.EXIT.USAGE, ("%s: model_type \"%s\" is not supported (the closest is %s); analyse the model " ..
      "through PyTorch with `lmp export-torch --hf ORG/NAME` (or a module: `lmp export-torch MODULE`), or write a " ..
      "builder (docs/builders.md); supported: %s")
      :format(source, model_type, builders.closest(model_type), table.concat(builders.supported(), ", ")))
  end
  local cfg = common.reader(config, source)
  local layers = family.build(cfg, common)
  return {
    model_id = opts.model_id or (type(config._name_or_path) == "string" and config._name_or_path) or model_type,
    encoder_only = family.encoder_only or nil,
    attention = type(family.attn_implementation) == "string" and family.attn_implementation or nil,
    config = config,
    layers = layers,
  }
end

return builders
