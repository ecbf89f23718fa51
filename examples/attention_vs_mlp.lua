-- At what sequence length does attention cost more than the MLP? Sweeps seq_len on one
-- decoder layer (prefill, batch 1), prints the attention block's and the MLP block's FLOPs,
-- then finds the exact crossover -- the smallest seq_len where attention's FLOPs exceed
-- the MLP's -- by bisection over integers, for all FLOPs and for matmul FLOPs alone.
-- Attention grows as S^2 (QK^T and PV), the MLP as S.
--
--   lmp examples/attention_vs_mlp.lua [MODEL] [ATTN_PATTERN] [MLP_PATTERN]
--   (default: models/llama-2-7b-hf.json "self_attn$" "mlp$"; MODEL may be a config.json;
--    the patterns are Lua patterns matched against the layer paths, e.g. "attn$" for GPT-2)

local path = arg[1] or (lmp.home .. "/models/llama-2-7b-hf.json")
local attn_pattern, mlp_pattern = arg[2] or "self_attn$", arg[3] or "mlp$"
local model = lmp.read_config(path).layers and lmp.load_model(path) or lmp.load_config(path)

local function commas(n) return (tostring(n):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")) end

-- FLOPs (or another figure) of one instance of each block at seq_len s
local function blocks(s, field)
  local r = lmp.analyze(model, { seq_len = s })
  local attn, mlp = r:find(attn_pattern)[1], r:find(mlp_pattern)[1]
  assert(attn and mlp, "no layer path matches the attention or MLP pattern")
  return attn[field or "flops"], mlp[field or "flops"], attn.path, mlp.path
end

local _, _, attn_path, mlp_path = blocks(1)
print(("%s, prefill, batch 1: FLOPs of one layer's %s and %s"):format(model.model_id,
  attn_path:match("[^.]+$"), mlp_path:match("[^.]+$")))
print(("%8s %22s %22s %8s"):format("seq_len", "attention", "MLP", "attn/MLP"))
for e = 8, 15 do
  local s = 1 << e
  local a, m = blocks(s)
  print(("%8d %22s %22s %8.3f"):format(s, commas(a), commas(m), a / m))
end

-- smallest s with attention > MLP: attention - MLP = c2*s^2 + c1*s is increasing past its
-- root, so double until it is over, then bisect [lo, hi) keeping "lo under, hi over"
local function crossover(field)
  local a, m = blocks(1, field)
  if a > m then return 1 end
  local lo, hi = 1, 2
  while true do
    a, m = blocks(hi, field)
    if a > m then break end
    assert(hi < 1 << 30, "attention does not overtake the MLP below 2^30 tokens")
    lo, hi = hi, hi * 2
  end
  while hi - lo > 1 do
    local mid = (lo + hi) // 2
    a, m = blocks(mid, field)
    if a > m then hi = mid else lo = mid end
  end
  return hi
end

print()
print("attention overtakes the MLP at (the smallest seq_len where attention > MLP):")
for _, field in ipairs({ "flops", "matmul_flops" }) do
  local s = crossover(field)
  local a0, m0 = blocks(s - 1, field)
  local a1, m1 = blocks(s, field)
  print(("  %-13s seq_len %d   attention %s > MLP %s%s"):format(field, s, commas(a1), commas(m1),
    a0 == m0 and ("   (equal at %d)"):format(s - 1) or ""))
end
