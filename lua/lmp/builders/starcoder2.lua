-- StarCoder2 (transformers models/starcoder2/modeling_starcoder2.py, model_type "starcoder2"):
-- Starcoder2ForCausalLM, Llama-shaped attention (grouped-query, rotary) with biases on q, k,
-- v and o when use_bias, nn.LayerNorm (with bias) in place of RMSNorm, and a plain MLP:
-- c_fc, act (hidden_act, gelu_pytorch_tanh in the released configs), c_proj, biased when
-- use_bias. lm_head is tied to embed_tokens unless the config says otherwise (the
-- PretrainedConfig default). The residual and embedding dropouts are functional calls, the
-- identity at inference. A sliding_window (4096 in the released configs) bounds what decode
-- reads and what the cache holds, as Mistral's (transformers' DynamicCache gives every layer
-- a sliding-window layer when the config has one and no layer_types); a prefill is dense.
local llama = require "lmp.builders.llama"

local starcoder2 = { model_types = { "starcoder2" } }

local M = "transformers.models.starcoder2.modeling_starcoder2."

function starcoder2.build(cfg, b)
  local s = llama.shape(cfg, { tied = true })
  local bias = cfg:bool("use_bias", true)
  s.attention_bias = bias
  s.window = cfg:has("sliding_window") and cfg:int("sliding_window") or nil
  local h = s.hidden
  return llama.decoder(cfg, b, s, {
    module = M, prefix = "Starcoder2",
    norm = function (name, N) return b.layer_norm(name, h, true, N) end,
    mlp = b.block("mlp", M .. "Starcoder2MLP", {
      b.linear("c_fc", h, s.inter, bias),
      b.elementwise("act", b.activation_class(cfg, "hidden_act", "gelu_pytorch_tanh"), s.inter),
      b.linear("c_proj", s.inter, h, bias),
    }),
  })
end

return starcoder2
