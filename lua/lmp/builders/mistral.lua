-- Mistral (transformers models/mistral/modeling_mistral.py): MistralForCausalLM, Llama-shaped
-- with grouped-query attention. The sliding window only masks scores; attention is counted
-- dense, as the kernels execute it, so it changes no count.
local llama = require "lmp.builders.llama"

local mistral = { model_types = { "mistral" } }

local M = "transformers.models.mistral.modeling_mistral."

function mistral.build(cfg, b)
  return llama.decoder(cfg, b, llama.shape(cfg), { module = M, prefix = "Mistral", norm = M .. "MistralRMSNorm" })
end

return mistral
