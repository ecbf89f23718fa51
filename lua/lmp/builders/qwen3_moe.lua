-- Qwen3-MoE (transformers models/qwen3_moe/modeling_qwen3_moe.py, as of 4.5x):
-- Qwen3MoeForCausalLM, Qwen3's attention (q_norm and k_norm over each head, no biases) with
-- Qwen2-MoE's sparse block (qwen2_moe.lua: gate, softmax, top-k, norm_topk_prob, experts of
-- moe_intermediate_size, decoder_sparse_step, mlp_only_layers) without its shared expert.
local llama = require "lmp.builders.llama"
local qwen2_moe = require "lmp.builders.qwen2_moe"
local qwen3 = require "lmp.builders.qwen3"

local qwen3_moe = { model_types = { "qwen3_moe" } }

local M = "transformers.models.qwen3_moe.modeling_qwen3_moe."

function qwen3_moe.build(cfg, b)
  local s = llama.shape(cfg)
  local names = { module = M, prefix = "Qwen3Moe", norm = M .. "Qwen3MoeRMSNorm" }
  names.attention = llama.attention(b, s, names, qwen3.qk_norms(b, s, names.norm))
  local moe = qwen2_moe.moe(cfg, b, s, M, "Qwen3Moe", false)
  if #moe.mlps == 1 then names.mlp = moe.mlps[1].mlp else names.mlps = moe.mlps end
  return llama.decoder(cfg, b, s, names)
end

return qwen3_moe
