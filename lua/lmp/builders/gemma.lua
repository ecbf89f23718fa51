-- Gemma (transformers models/gemma/modeling_gemma.py, as of 4.40): GemmaForCausalLM, Llama-shaped
-- with: the embeddings scaled by normalizer = sqrt(hidden_size) before the first layer;
-- GemmaRMSNorm (x_hat * (1 + weight)); head_dim from the config (default 256, so
-- heads * head_dim need not be hidden_size); lm_head tied to embed_tokens unless the config
-- says otherwise; a GeGLU MLP whose activation is hidden_activation, or gelu_pytorch_tanh
-- when that is absent (GemmaMLP ignores hidden_act, transformers PR 29402).
local llama = require "lmp.builders.llama"

local gemma = { model_types = { "gemma" } }

local M = "transformers.models.gemma.modeling_gemma."

function gemma.build(cfg, b)
  local s = llama.shape(cfg, { tied = true, head_dim = 256 })
  return llama.decoder(cfg, b, s, {
    module = M, prefix = "Gemma", norm = M .. "GemmaRMSNorm",
    act = b.activation_class(cfg, "hidden_activation", "gelu_pytorch_tanh"),
    embed = { b.elementwise("normalizer", M .. "GemmaModel.normalizer", s.hidden) },
  })
end

return gemma
