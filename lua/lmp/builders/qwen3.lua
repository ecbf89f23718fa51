-- Qwen3 (transformers models/qwen3/modeling_qwen3.py, model_type "qwen3"): Qwen3ForCausalLM,
-- Llama-shaped (no biases unless attention_bias; head_dim from the config) with q_norm and
-- k_norm: a Qwen3RMSNorm of head_dim run on every head of q and of k after their
-- projections, before the rotary embedding. The sliding window (off in the released
-- configs) only masks scores.
local llama = require "lmp.builders.llama"

local qwen3 = { model_types = { "qwen3" } }

local M = "transformers.models.qwen3.modeling_qwen3."

-- qk_norms(b, s, class) -> q_norm and k_norm, an RMSNorm of head_dim over each head's row
function qwen3.qk_norms(b, s, class)
  return {
    b.layer("q_norm", class, { N = ("(%s) * %d"):format(b.TOKENS, s.heads), hidden_size = s.head_dim }),
    b.layer("k_norm", class, { N = ("(%s) * %d"):format(b.TOKENS, s.kv_heads), hidden_size = s.head_dim }),
  }
end

function qwen3.build(cfg, b)
  local s = llama.shape(cfg)
  local names = { module = M, prefix = "Qwen3", norm = M .. "Qwen3RMSNorm" }
  names.attention = llama.attention(b, s, names, qwen3.qk_norms(b, s, names.norm))
  return llama.decoder(cfg, b, s, names)
end

return qwen3
