-- Qwen2-MoE / Qwen1.5-MoE (transformers models/qwen2_moe/modeling_qwen2_moe.py, as of 4.5x):
-- Qwen2MoeForCausalLM, Qwen2-shaped attention (biases on q/k/v, qkv_bias) and, in each
-- layer whose index i is not in mlp_only_layers and has (i + 1) % decoder_sparse_step == 0,
-- an mlp that is a Qwen2MoeSparseMoeBlock (the other layers keep a dense Qwen2MoeMLP of
-- intermediate_size):
--   gate               Linear(hidden, num_experts), no bias, over every token
--   routing            softmax over the experts, torch.topk of num_experts_per_tok; when
--                      norm_topk_prob, the top-k weights divided by their sum
--   experts            num_experts x Qwen2MoeMLP(moe_intermediate_size), "active":
--                      num_experts_per_tok of them per token; each output row times its
--                      routing weight and index_add_-ed into the output
--   shared_expert      Qwen2MoeMLP(shared_expert_intermediate_size) over every token, scaled
--                      by sigmoid(shared_expert_gate(x)) (Linear(hidden, 1)) and added
-- Qwen3-MoE (qwen3_moe.lua) has the same block without the shared expert.
local core = require "lmp.core"
local llama = require "lmp.builders.llama"

local qwen2_moe = { model_types = { "qwen2_moe" } }

local M = "transformers.models.qwen2_moe.modeling_qwen2_moe."

-- gated_mlp(b, name, class, h, f, act [, rep]): gate_proj, act_fn, up_proj, mul, down_proj
-- (also DeepSeek-V2/V3's MLPs, deepseek_v2.lua)
local function gated_mlp(b, name, class, h, f, act, rep)
  return b.block(name, class, {
    b.linear("gate_proj", h, f, false),
    b.elementwise("act_fn", act, f),
    b.linear("up_proj", h, f, false),
    b.mul("mul", f),
    b.linear("down_proj", f, h, false),
  }, rep)
end

-- moe(cfg, b, s, module, prefix [, shared]) -> { mlps = runs of layers for llama.decoder,
-- experts = num_experts, k = num_experts_per_tok }; shared: the block has a shared expert
function qwen2_moe.moe(cfg, b, s, module, prefix, shared)
  local h = s.hidden
  local act = b.activation_class(cfg, "hidden_act", "silu")
  local experts = cfg:int("num_experts")
  local k = cfg:int("num_experts_per_tok")
  if k > experts then cfg:fail("num_experts_per_tok", ("%d is more than num_experts (%d)"):format(k, experts)) end
  local f = cfg:int("moe_intermediate_size")
  local step = cfg:int("decoder_sparse_step", 1)
  local dense_only = {}
  local list = cfg.raw.mlp_only_layers
  if list ~= nil and list ~= core.null then
    if type(list) ~= "table" then cfg:fail("mlp_only_layers", "expected a list of layer indices") end
    for i, v in ipairs(list) do
      if math.type(v) ~= "integer" or v < 0 then cfg:fail("mlp_only_layers", ("entry %d is not a layer index"):format(i)) end
      dense_only[v] = true
    end
  end

  local routed = ("(%s) * %d"):format(b.TOKENS, k)  -- (token, chosen expert) pairs
  local expert = gated_mlp(b, "experts", module .. prefix .. "MLP", h, f, act, experts)
  expert["active"] = k
  local parts = {
    b.linear("gate", h, experts, false),
    b.elementwise("softmax", "torch.nn.modules.activation.Softmax", experts),
    b.layer("topk", "torch.topk", { rows = b.TOKENS, width = experts, k = k }),
  }
  if cfg:bool("norm_topk_prob", false) then
    b.append(parts, {
      b.layer("routing_sum", "torch.sum", { rows = b.TOKENS, width = k }),
      b.layer("routing_div", "torch.div", { numel = routed, divisor_numel = b.TOKENS }),
    })
  end
  b.append(parts, {
    expert,
    b.layer("routing_weight_mul", "torch.mul", { numel = ("(%s) * %d"):format(routed, h), broadcast_numel = routed }),
    b.add("index_add", h, routed),
  })
  if shared then
    local gate = b.elementwise("sigmoid", "torch.nn.modules.activation.Sigmoid", 1)
    local scale = b.mul("shared_expert_mul", h)
    scale.parameters.broadcast_numel = b.TOKENS -- one gate value per token
    b.append(parts, {
      gated_mlp(b, "shared_expert", module .. prefix .. "MLP", h, cfg:int("shared_expert_intermediate_size"), act),
      b.linear("shared_expert_gate", h, 1, false),
      gate,
      scale,
      b.add("shared_expert_add", h),
    })
  end
  local sparse = b.block("mlp", module .. prefix .. "SparseMoeBlock", parts)
  local dense = gated_mlp(b, "mlp", module .. prefix .. "MLP", h, s.inter, act)

  local runs = {}
  for i = 0, s.layers - 1 do
    local mlp = (experts > 0 and not dense_only[i] and (i + 1) % step == 0) and sparse or dense
    local last = runs[#runs]
    if last and last.mlp == mlp then last.count = last.count + 1 else runs[#runs + 1] = { mlp = mlp, count = 1 } end
  end
  return { mlps = runs, experts = experts, k = k }
end

qwen2_moe.gated_mlp = gated_mlp

function qwen2_moe.build(cfg, b)
  local s = llama.shape(cfg)
  s.qkv_bias, s.attention_bias, s.mlp_bias = cfg:bool("qkv_bias", true), false, false
  local moe = qwen2_moe.moe(cfg, b, s, M, "Qwen2Moe", true)
  local names = { module = M, prefix = "Qwen2Moe", norm = M .. "Qwen2MoeRMSNorm" }
  if #moe.mlps == 1 then names.mlp = moe.mlps[1].mlp else names.mlps = moe.mlps end
  return llama.decoder(cfg, b, s, names)
end

return qwen2_moe
