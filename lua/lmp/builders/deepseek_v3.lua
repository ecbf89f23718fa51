-- DeepSeek-V3 (transformers models/deepseek_v3/modeling_deepseek_v3.py, as of 4.5x):
-- DeepseekV3ForCausalLM, DeepSeek-V2's decoder (deepseek_v2.lua: MLA attention with its latent
-- KV cache, first_k_dense_replace dense layers, DeepseekV3MoE with shared experts) with its own
-- router, DeepseekV3TopkRouter (gate), a weight of n_routed_experts x hidden:
--   F.linear, sigmoid scores; for the choice only, scores + e_score_correction_bias (a buffer
--   in transformers, not a parameter: the remote code's nn.Parameter would add 58 * 256 =
--   14,848), each of n_group groups scored by the sum of its top 2, the topk_group best groups
--   kept (the others masked: a select), then the top num_experts_per_tok; their sigmoid scores
--   gathered, divided by their sum + 1e-20 when norm_topk_prob, times routed_scaling_factor.
--   Each chosen expert's output times its weight is index_add_-ed into the output.
-- rope_interleave (DeepseekV3Config's default true) rotates through
-- apply_rotary_pos_emb_interleave, the same arithmetic after a reordering copy.
-- Multi-token prediction: num_nextn_predict_layers (1 in V3's config) is not built.
-- transformers' DeepseekV3Model drops the checkpoint's layer 61 on load
-- (_keys_to_ignore_on_load_unexpected), so it is counted as transformers counts it: 671B for
-- V3, not the Hub's 685B (671B + the 14B MTP module, spec/builders/deepseek_v3_spec.lua).
local deepseek_v2 = require "lmp.builders.deepseek_v2"

local deepseek_v3 = { model_types = { "deepseek_v3" } }

local M = "transformers.models.deepseek_v3.modeling_deepseek_v3."

function deepseek_v3.build(cfg, b)
  local s = deepseek_v2.shape(cfg, { first_dense = 3, shared = 1 })
  local T, E, k = b.TOKENS, s.experts, s.k
  local groups, keep = cfg:int("n_group", 8), cfg:int("topk_group", 4) -- DeepseekV3Config's defaults
  local per = cfg:divides("n_routed_experts", E, "n_group", groups)
  if per < 2 then cfg:fail("n_group", ("%d groups of %d experts: each group's top 2 needs 2"):format(groups, per)) end
  if keep > groups then cfg:fail("topk_group", ("%d is more than n_group (%d)"):format(keep, groups)) end
  local routed = ("(%s) * %d"):format(T, k) -- (token, chosen expert) pairs
  local bias = b.add("e_score_correction_bias_add", E)
  bias.parameters.broadcast_numel = E
  local gate = {
    b.linear("router_logits", s.hidden, E, false), -- F.linear(x, self.weight): the router's weight
    b.elementwise("sigmoid", "torch.nn.modules.activation.Sigmoid", E),
    bias,
    b.layer("group_top2", "torch.topk", { rows = ("(%s) * %d"):format(T, groups), width = per, k = 2 }),
    b.layer("group_sum", "torch.sum", { rows = ("(%s) * %d"):format(T, groups), width = 2 }),
    b.layer("group_topk", "torch.topk", { rows = T, width = groups, k = keep }),
    b.layer("topk", "torch.topk", { rows = T, width = E, k = k }),
  }
  if cfg:bool("norm_topk_prob", true) then
    local eps = b.add("denominator_add", 1)
    eps.parameters.broadcast_numel = 1
    b.append(gate, {
      b.layer("routing_sum", "torch.sum", { rows = T, width = k }),
      eps,
      b.layer("routing_div", "torch.div", { numel = routed, divisor_numel = T }),
    })
  end
  gate[#gate + 1] = b.scale("routed_scaling_mul", k)
  local combine = {
    b.layer("routing_weight_mul", "torch.mul", { numel = ("(%s) * %d"):format(routed, s.hidden), broadcast_numel = routed }),
    b.add("index_add", s.hidden, routed),
  }
  local rotary = cfg:bool("rope_interleave", true) and "apply_rotary_pos_emb_interleave" or "apply_rotary_pos_emb"
  return deepseek_v2.decoder(cfg, b, s, { module = M, prefix = "DeepseekV3", norm = M .. "DeepseekV3RMSNorm",
    rotary = M .. rotary }, b.block("gate", M .. "DeepseekV3TopkRouter", gate), combine)
end

return deepseek_v3
