-- The runtime inputs of an analysis (core.INPUTS) and its phases (core.PHASES): defaults,
-- checking, and the words the API's and the CLI's messages use for them.
local core = require "lmp.core"
local util = require "lmp.util"

local inputs = {}

-- the values an input left out takes (an input defaulting to others is filled in by
-- inputs.check with their sum: enc_len with kv_len + seq_len, the positions the encoder saw
-- by this step, in decode too; logits_len with seq_len)
inputs.DEFAULTS = {}
local NAMES = {}
for _, row in ipairs(core.INPUTS) do
  inputs.DEFAULTS[row.name] = row.default
  NAMES[#NAMES + 1] = row.name
end

-- the phases one analysis runs; those made of steps (generate) are lmp.generate's
inputs.ANALYSIS_PHASES = {}
for _, p in ipairs(core.PHASES) do
  if not p.steps then inputs.ANALYSIS_PHASES[#inputs.ANALYSIS_PHASES + 1] = p.name end
end
local ANALYSIS_PHASE = {}
for _, name in ipairs(inputs.ANALYSIS_PHASES) do ANALYSIS_PHASE[name] = true end

-- check(given) -> inputs with defaults filled and every value checked; phase defaults to
-- decode when kv_len > 0, else prefill
function inputs.check(given)
  local out = {}
  for k, v in pairs(inputs.DEFAULTS) do out[k] = v end
  for k, v in pairs(given or {}) do
    if (type(k) ~= "string" or not core.INPUTS[k]) and k ~= "phase" then
      util.fail(("unknown input '%s' (inputs: %s, phase)"):format(k, table.concat(NAMES, ", ")))
    end
    out[k] = v
  end
  for _, row in ipairs(core.INPUTS) do
    local k = row.name
    if out[k] == nil and row.default_from then
      local sum = 0
      for name in row.default_from:gmatch("[%w_]+") do
        local v = out[name]
        if math.type(v) ~= "integer" or v < 0 or v > math.maxinteger - sum then
          util.fail(("input %s: its default %s is not an integer in range"):format(k, row.default_from))
        end
        sum = sum + v
      end
      out[k] = sum
    end
    local v = out[k]
    if row.choices and type(v) == "string" then -- a name: its index (eager 0, sdpa 1, flash 2)
      for i, name in ipairs(row.choices) do if name == v then v = i - 1 end end
      if type(v) == "string" then util.fail(("input %s must be %s, got '%s'"):format(k, util.either(row.choices), v)) end
      out[k] = v
    end
    if math.type(v) ~= "integer" then util.fail(("input %s must be an integer, got %s"):format(k, tostring(v))) end
    if v < row.min then util.fail(("input %s must be >= %d, got %d"):format(k, row.min, v)) end
    if v > row.max then util.fail(("input %s must be at most %d, got %d"):format(k, row.max, v)) end
  end
  if out.logits_len > out.seq_len then
    util.fail(("input logits_len must be at most seq_len (%d), got %d"):format(out.seq_len, out.logits_len))
  end
  out.phase = out.phase or (out.kv_len > 0 and "decode" or "prefill")
  if not ANALYSIS_PHASE[out.phase] then
    util.fail(("input phase must be %s, got %s"):format(util.either(inputs.ANALYSIS_PHASES), tostring(out.phase)))
  end
  if core.PHASES[out.phase].backward and out.kv_len > 0 then
    util.fail("training runs without a KV cache: kv_len must be 0")
  end
  return out
end

-- name(k, v) -> a choice input's name for its value (attention 1 -> "sdpa"); v otherwise
function inputs.name(k, v)
  local row = core.INPUTS[k]
  return row and row.choices and math.type(v) == "integer" and row.choices[v + 1] or v
end

return inputs
