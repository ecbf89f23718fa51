-- How much memory does the KV cache take? A grid of KV-cache sizes in GiB over batch size
-- and context length, at 16- and 8-bit KV, for a grouped-query model (Mistral-7B: 8 KV
-- heads for 32 query heads), and the same model rebuilt with one KV head per query head
-- (multi-head attention) to show what GQA saves. Mistral-7B-v0.1's sliding window (4096
-- tokens) caps the cache: a longer context holds its last 4096 tokens.
--
--   lmp examples/kv_cache_grid.lua [MODEL]
--   (default: models/mistral-7b-v0.1.json; MODEL must carry a KV-cache layer and its config)

local path = arg[1] or (lmp.home .. "/models/mistral-7b-v0.1.json")
local gqa = lmp.load_model(path)

-- the multi-head twin: the model's own config with num_key_value_heads = num_attention_heads
local config = {}
for k, v in pairs(gqa.config) do config[k] = v end
config.num_key_value_heads = config.num_attention_heads
local mha = lmp.load_model_string(lmp.model_json(lmp.build(config)), "multi-head " .. gqa.model_id)

local BATCHES, CONTEXTS = { 1, 8, 32, 128 }, { 2048, 4096, 8192, 32768 }

-- the bytes the cache holds once `context` tokens are in it: a decode step of one token
-- over context - 1 cached ones leaves exactly that (state_bytes, the footprint's kv_cache).
-- lmp.sweep analyses every point of a grid in one go and returns their totals.
local function grid(title, model, bits)
  local points = {}
  for _, b in ipairs(BATCHES) do
    for _, c in ipairs(CONTEXTS) do
      points[#points + 1] = { batch_size = b, seq_len = 1, kv_len = c - 1, kv_bits = bits }
    end
  end
  local totals = lmp.sweep(model, points)
  assert(totals[1].state_bytes > 0, "this model has no KV-cache layer: use its config.json")
  print(("%s, KV at %d bits (GiB)"):format(title, bits))
  local line = { ("%6s"):format("batch") }
  for _, c in ipairs(CONTEXTS) do line[#line + 1] = ("%11s"):format("ctx " .. c) end
  print(table.concat(line))
  for i, b in ipairs(BATCHES) do
    line = { ("%6d"):format(b) }
    for j = 1, #CONTEXTS do
      line[#line + 1] = ("%11.3f"):format(totals[(i - 1) * #CONTEXTS + j].state_bytes / 2^30)
    end
    print(table.concat(line))
  end
  print()
end

-- one token in the cache, at 16 bits
local function per_token(model) return lmp.sweep(model, { { seq_len = 1 } })[1].state_bytes end

local heads = (" (%d query heads, %d KV heads)"):format(gqa.config.num_attention_heads, gqa.config.num_key_value_heads)
grid(gqa.model_id .. heads, gqa, 16)
grid(gqa.model_id .. heads, gqa, 8)
grid("the same with multi-head attention", mha, 16)

local g, m = per_token(gqa), per_token(mha)
print(("per token at 16 bits: %d bytes with GQA, %d with multi-head attention: %gx less"):format(g, m, m / g))
