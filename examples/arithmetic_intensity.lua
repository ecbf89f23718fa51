-- Which layers are memory-bound? Ranks the basic layers of a model by arithmetic intensity,
-- FLOPs per byte read + written (no fusion, as lmp counts traffic), lowest first. A layer
-- far below the accelerator's ridge point (peak FLOP/s / memory bandwidth, e.g. A100 bf16:
-- 312e12 / 2.04e12 = 153 FLOP/byte) is limited by memory, not arithmetic. In decode every
-- Linear is near 1 FLOP/byte: each weight is read once for one multiply-add per token.
--
--   lmp examples/arithmetic_intensity.lua [MODEL] [PHASE] [CONTEXT] [BATCH] [TOP]
--   (default: models/llama-2-7b-hf.json decode 4096 1 10; PHASE is prefill (CONTEXT tokens)
--    or decode (one token over CONTEXT - 1 cached); MODEL may be a config.json)

local path = arg[1] or (lmp.home .. "/models/llama-2-7b-hf.json")
local phase = arg[2] or "decode"
local function int(s) return math.tointeger(tonumber(s)) end
local context, batch, top = int(arg[3] or "4096"), int(arg[4] or "1"), int(arg[5] or "10")
local model = lmp.read_config(path).layers and lmp.load_model(path) or lmp.load_config(path)

local inputs = { batch_size = batch, phase = phase, seq_len = context, kv_len = 0 }
if phase == "decode" then inputs.seq_len, inputs.kv_len = 1, context - 1 end
local r = lmp.analyze(model, inputs)

local function commas(n) return (tostring(n):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")) end

local layers = {}
for i, node in ipairs(r:basic_layers()) do
  local bytes = node.reads_bytes + node.writes_bytes
  layers[i] = { node = node, bytes = bytes, intensity = bytes > 0 and node.flops / bytes or math.huge, order = i }
end
table.sort(layers, function (a, b)
  if a.intensity ~= b.intensity then return a.intensity < b.intensity end
  return a.order < b.order
end)

local t = r.totals
print(("%s | %s | batch %d, context %d"):format(r.model_id, phase, batch, context))
print(("whole model: %s FLOPs, %s bytes read + written: %.3f FLOP/byte"):format(
  commas(t.flops), commas(t.reads_bytes + t.writes_bytes), t.flops / (t.reads_bytes + t.writes_bytes)))
print()
local rows = { { "layer (lowest intensity first)", "class", "FLOPs", "bytes", "FLOP/byte" } }
for i = 1, math.min(top, #layers) do
  local l = layers[i]
  rows[#rows + 1] = { l.node.path, l.node.class:match("[^.]+$"), commas(l.node.flops), commas(l.bytes),
                      ("%.4f"):format(l.intensity) }
end
local w = {}
for _, row in ipairs(rows) do
  for j, cell in ipairs(row) do w[j] = math.max(w[j] or 0, #cell) end
end
for _, row in ipairs(rows) do
  print(("%-" .. w[1] .. "s  %-" .. w[2] .. "s  %" .. w[3] .. "s  %" .. w[4] .. "s  %" .. w[5] .. "s")
    :format(table.unpack(row)))
end
