-- OLMo 2 (transformers models/olmo2/modeling_olmo2.py, model_type "olmo2"): Olmo2ForCausalLM,
-- Llama-shaped with the norms after each sublayer instead of before it (no input_layernorm:
-- x + post_attention_layernorm(attn(x)), then h + post_feedforward_layernorm(mlp(h))), and
-- q_norm / k_norm: an Olmo2RMSNorm over the whole q projection (heads * head_dim) and the
-- whole k projection (kv_heads * head_dim), not per head as Qwen3's.
local llama = require "lmp.builders.llama"

local olmo2 = { model_types = { "olmo2" } }

local M = "transformers.models.olmo2.modeling_olmo2."

function olmo2.build(cfg, b)
  local s = llama.shape(cfg)
  local h, norm_class = s.hidden, M .. "Olmo2RMSNorm"
  local names = { module = M, prefix = "Olmo2", norm = norm_class }
  names.attention = llama.attention(b, s, names, {
    b.layer("q_norm", norm_class, { N = b.TOKENS, hidden_size = s.heads * s.head_dim }),
    b.layer("k_norm", norm_class, { N = b.TOKENS, hidden_size = s.kv_heads * s.head_dim }),
  })
  names.layer = function (norm, attention, mlp)
    return {
      attention,
      norm("post_attention_layernorm"),
      b.add("residual_add_attn", h),
      mlp,
      norm("post_feedforward_layernorm"),
      b.add("residual_add_mlp", h),
    }
  end
  return llama.decoder(cfg, b, s, names)
end

return olmo2
