-- The DeepSeek builders against PyTorch itself: spec/fixtures/torch/deepseek_torch.py builds the
-- module tree as transformers' modeling_deepseek_v3.py does (its own reading of the code, not lmp's
-- output) and counts sum(p.numel()) on the meta device, and the matrix products of a real forward
-- (mm/addmm/bmm, 2 FLOPs a multiply-add, by a TorchDispatchMode) at small sizes. Skipped without
-- python3-torch.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local SCRIPT = "spec/fixtures/torch/deepseek_torch.py"

local function python_with_torch()
  for _, py in ipairs({ "/usr/bin/python3", "python3" }) do
    if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") then return py end
  end
end

-- edits (integer fields) as a JSON object
local function json_of(edits)
  local keys = {}
  for k in pairs(edits) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = ('"%s": %d'):format(k, edits[k]) end
  return "{" .. table.concat(keys, ", ") .. "}"
end

-- torch_counts(py, name, edits, batch) -> params, matmul_flops (nil without batch) as PyTorch counts them
local function torch_counts(py, name, edits, batch)
  local cmd = ("%s %s %s '%s'%s"):format(py, SCRIPT, R .. name, json_of(edits or {}), batch and (" flops " .. batch) or "")
  local pipe = io.popen(cmd .. " 2>&1")
  local out = pipe:read("a")
  pipe:close()
  local params, flops = out:match("^params (%d+)"), out:match("matmul_flops (%d+)")
  assert(params, out)
  return math.tointeger(tonumber(params)), flops and math.tointeger(tonumber(flops))
end

-- small sizes keeping every feature: q LoRA (V3) or none (V2), values (6) narrower than q/k (8 + 4),
-- a dense first layer, grouped routing (V3), shared experts
local SMALL = { hidden_size = 64, num_attention_heads = 4, num_key_value_heads = 4, kv_lora_rank = 16,
                qk_nope_head_dim = 8, qk_rope_head_dim = 4, v_head_dim = 6, n_routed_experts = 8,
                moe_intermediate_size = 12, intermediate_size = 40, num_hidden_layers = 3,
                first_k_dense_replace = 1, vocab_size = 50 }
local CASES = {
  { "deepseek-ai--DeepSeek-V3.json", { q_lora_rank = 32, num_experts_per_tok = 2, n_group = 4, topk_group = 2 } },
  { "deepseek-ai--DeepSeek-V2-Lite.json", { num_experts_per_tok = 3 } },
}

describe("deepseek builders against PyTorch", function ()
  local py = python_with_torch()
  if not py then
    pending("python3-torch is not installed (apt-get install python3-torch)")
    return
  end

  for _, name in ipairs({ "deepseek-ai--DeepSeek-V2-Lite.json", "deepseek-ai--DeepSeek-V3.json" }) do
    it(name .. ": the parameters of the real config, built on the meta device", function ()
      local params = torch_counts(py, name)
      assert.are.equal(params, lmp.analyze(lmp.load_config(R .. name), h.AT_128).totals.params)
    end)
  end

  for _, case in ipairs(CASES) do
    local name, edits = case[1], {}
    for k, v in pairs(SMALL) do edits[k] = v end
    for k, v in pairs(case[2]) do edits[k] = v end
    for _, batch in ipairs({ 1, 3 }) do
      it(("%s at small sizes, batch %d x 128 tokens: params and matmul FLOPs of a real forward"):format(name, batch), function ()
        local params, flops = torch_counts(py, name, edits, batch)
        local r = lmp.analyze(h.build(h.edited_config(name, edits)), { batch_size = batch, seq_len = 128, kv_len = 0 })
        assert.are.same({ params, flops }, { r.totals.params, r.totals.matmul_flops })
      end)
    end
  end
end)
