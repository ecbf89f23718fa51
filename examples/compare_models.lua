-- Two models side by side: parameters, prefill FLOPs per token, the matmul share of them,
-- weight bytes, KV-cache bytes per token (grouped-query attention shows here) and the FLOPs
-- of one decode step. Each model is a model JSON or a Hugging Face config.json.
--
--   lmp examples/compare_models.lua [MODEL_A] [MODEL_B] [SEQ]
--   (default: models/llama-2-7b-hf.json models/mistral-7b-v0.1.json 2048)

local paths = { arg[1] or (lmp.home .. "/models/llama-2-7b-hf.json"),
                arg[2] or (lmp.home .. "/models/mistral-7b-v0.1.json") }
local seq = math.tointeger(tonumber(arg[3] or "2048")) or error("SEQ must be an integer")

-- a model file has "layers"; anything else is a config.json for the builders (named
-- after its file, since a config does not say which model it is)
local function load(path)
  if lmp.read_config(path).layers then return lmp.load_model(path) end
  return lmp.load_config(path, { model_id = path:gsub("/config%.json$", ""):match("([^/]+)$"):gsub("%.json$", "") })
end

-- 6738415616 -> "6,738,415,616"
local function commas(n)
  return (tostring(n):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- K and V that one token adds to the cache, over every attention call in the model:
-- 2 * kv_heads * head_dim * kv_bits / 8 per attention layer, times the layer's repeats
local function kv_bytes_per_token(result)
  local total = 0
  local function walk(nodes, times)
    for _, node in ipairs(nodes or {}) do
      local n = times * node["repeat"]
      if node.class == "torch.nn.functional.scaled_dot_product_attention" then
        local p = node.parameters
        total = total + n * 2 * p.num_kv_heads * p.head_dim * result.inputs.kv_bits // 8
      end
      walk(node.children, n)
    end
  end
  walk(result.tree, 1)
  return total
end

local rows = {
  { "parameters" }, { ("prefill FLOPs/token (seq %d)"):format(seq) }, { "  matmul share" },
  { "weights, 16-bit (bytes)" }, { "KV cache per token (bytes)" },
  { ("decode FLOPs/token (%d cached)"):format(seq) },
}
local header = { "" }
for _, path in ipairs(paths) do
  local model = load(path)
  local prefill = lmp.analyze(model, { seq_len = seq })
  local decode = lmp.analyze(model, { seq_len = 1, kv_len = seq })
  local t = prefill.totals
  header[#header + 1] = prefill.model_id
  local per_token = t.flops % seq == 0 and commas(t.flops // seq) or ("%.1f"):format(t.flops / seq)
  local values = { commas(t.params), per_token, ("%.3f %%"):format(100 * t.matmul_flops / t.flops),
                   commas(prefill.footprint.weights), commas(kv_bytes_per_token(prefill)),
                   commas(decode.totals.flops) }
  for i, v in ipairs(values) do rows[i][#rows[i] + 1] = v end
end

-- print aligned: the label column left, the figures right
local widths = {}
for _, row in ipairs({ header, table.unpack(rows) }) do
  for i, cell in ipairs(row) do widths[i] = math.max(widths[i] or 0, #cell) end
end
for _, row in ipairs({ header, table.unpack(rows) }) do
  local cells = { ("%-" .. widths[1] .. "s"):format(row[1]) }
  for i = 2, #row do cells[i] = ("%" .. widths[i] .. "s"):format(row[i]) end
  print(table.concat(cells, "   "))
end
