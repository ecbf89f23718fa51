-- Builders: a Hugging Face config.json (as a Lua table) -> the standard model table
-- (DESIGN.md section 2). One module per architecture family, under lmp.builders.<family>;
-- each exports `model_types` (the config's model_type values it handles) and
-- `build(cfg, b)` -> list of top-level layers, where cfg is a checked config reader and b
-- the layer constructors of lmp.builders.common.
local core = require "lmp.core"
local common = require "lmp.builders.common"

local builders = {}

-- families in the order `lmp` lists them
builders.FAMILIES = { "llama", "mistral", "mixtral", "qwen2", "gemma", "phi", "gpt2", "gpt_neox", "opt",
                      "bloom", "falcon", "bert", "t5",
                      "qwen3", "qwen2_moe", "qwen3_moe", "olmo2", "granite", "starcoder2", "phi3" }

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

-- supported() -> sorted list of model_type values
function builders.supported()
  local list = {}
  for t in pairs(index()) do list[#list + 1] = t end
  table.sort(list)
  return list
end

-- build(config, opts) -> model table { model_id, config, layers }
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
    core.error(core.EXIT.USAGE, ("%s: model_type \"%s\" is not supported; supported: %s")
      :format(source, model_type, table.concat(builders.supported(), ", ")))
  end
  local cfg = common.reader(config, source)
  local layers = family.build(cfg, common)
  return {
    model_id = opts.model_id or (type(config._name_or_path) == "string" and config._name_or_path) or model_type,
    config = config,
    layers = layers,
  }
end

return builders
