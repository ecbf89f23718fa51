-- Qwen2 and Qwen2.5 (transformers models/qwen2/modeling_qwen2.py, model_type "qwen2"):
-- Qwen2ForCausalLM, Llama-shaped with biases on q_proj, k_proj and v_proj only (o_proj and
-- the MLP have none), whatever the config says. The sliding window only masks scores.
local llama = require "lmp.builders.llama"

local qwen2 = { model_types = { "qwen2" } }

local M = "transformers.models.qwen2.modeling_qwen2."

function qwen2.build(cfg, b)
  local s = llama.shape(cfg)
  s.qkv_bias, s.attention_bias, s.mlp_bias = true, false, false
  return llama.decoder(cfg, b, s, { module = M, prefix = "Qwen2", norm = M .. "Qwen2RMSNorm" })
end

return qwen2
