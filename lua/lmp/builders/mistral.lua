-- Mistral (transformers models/mistral/modeling_mistral.py): MistralForCausalLM, Llama-shaped
-- with grouped-query attention. A sliding_window (Mistral-7B-v0.1: 4096; null in later
-- versions) bounds what decode reads and what the cache holds: transformers' sliding-window
-- cache keeps the last window tokens, so a step attends over at most window keys. A prefill
-- is counted dense, as the kernels execute it (the window only masks its scores).
local llama = require "lmp.builders.llama"

local mistral = { model_types = { "mistral" } }

local M = "transformers.models.mistral.modeling_mistral."

function mistral.build(cfg, b)
  local s = llama.shape(cfg)
  s.window = cfg:has("sliding_window") and cfg:int("sliding_window") or nil
  return llama.decoder(cfg, b, s, { module = M, prefix = "Mistral", norm = M .. "MistralRMSNorm" })
end

return mistral
