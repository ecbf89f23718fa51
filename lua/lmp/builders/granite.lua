-- Granite 3.x (transformers models/granite/modeling_granite.py, model_type "granite"):
-- GraniteForCausalLM, Llama-shaped with four multipliers from the config:
--   embedding_multiplier  the embeddings times it before the first layer: one multiply a value
--   residual_multiplier   each sublayer's output times it before the residual add
--                         (residual + out * m): one multiply a value, twice a layer
--   attention_multiplier  the softmax scale in place of 1/sqrt(head_dim): no extra work
--   logits_scaling        the logits divided by it after lm_head: one division a logit
local llama = require "lmp.builders.llama"

local granite = { model_types = { "granite" } }

local M = "transformers.models.granite.modeling_granite."

function granite.build(cfg, b)
  local s = llama.shape(cfg)
  local h = s.hidden
  for _, field in ipairs({ "embedding_multiplier", "residual_multiplier", "attention_multiplier", "logits_scaling" }) do
    cfg:num(field, 1.0)
  end
  local names = { module = M, prefix = "Granite", norm = M .. "GraniteRMSNorm",
                  embed = { b.scale("embedding_multiplier", h) } }
  names.layer = function (norm, attention, mlp)
    return {
      norm("input_layernorm"),
      attention,
      b.scale("residual_multiplier_attn", h),
      b.add("residual_add_attn", h),
      norm("post_attention_layernorm"),
      mlp,
      b.scale("residual_multiplier_mlp", h),
      b.add("residual_add_mlp", h),
    }
  end
  local out = llama.decoder(cfg, b, s, names)
  -- logits / logits_scaling: one scalar divisor over the lm_head's output (its rows: N)
  local head = out[#out]
  out[#out + 1] = b.layer("logits_scaling", "torch.div",
    { numel = ("(%s) * %d"):format(head.parameters.N, s.vocab), divisor_numel = 1 })
  return out
end

return granite
