-- Phi-3 / Phi-3.5 / Phi-4-mini (transformers models/phi3/modeling_phi3.py, model_type "phi3"):
-- Phi3ForCausalLM, Mistral-shaped with fused projections:
--   self_attn  qkv_proj Linear(hidden, (heads + 2 * kv_heads) * head_dim), no bias, split
--              into q, k, v; the rotary turns the first partial_rotary_factor of each head
--   mlp        gate_up_proj Linear(hidden, 2 * intermediate), chunked into gate and up,
--              up * act(gate), down_proj
-- and resid_attn_dropout / resid_mlp_dropout (nn.Dropout) before each residual add. A
-- sliding_window (2047 in Phi-3-mini) bounds what decode reads and what the cache holds, as
-- Mistral's; a prefill is dense. rope_scaling ("longrope") only changes the tables.
local llama = require "lmp.builders.llama"

local phi3 = { model_types = { "phi3" } }

local M = "transformers.models.phi3.modeling_phi3."

function phi3.build(cfg, b)
  local s = llama.shape(cfg)
  local h, d, f = s.hidden, s.head_dim, s.inter
  local window = cfg:has("sliding_window") and cfg:int("sliding_window") or nil
  s.rotary_dim = cfg:rotary_dims("partial_rotary_factor", 1.0, d)
  local names = { module = M, prefix = "Phi3", norm = M .. "Phi3RMSNorm" }
  names.attention = b.block("self_attn", M .. "Phi3Attention", {
    b.linear("qkv_proj", h, (s.heads + 2 * s.kv_heads) * d, false),
    b.rotary(M .. "apply_rotary_pos_emb", s.heads, s.kv_heads, s.rotary_dim),
    b.kv_cache("past_key_value", s.kv_heads, d, window),
    b.sdpa("scaled_dot_product_attention", s.heads, s.kv_heads, d, true, nil, b.window_keys(window)),
    b.linear("o_proj", s.heads * d, h, false),
  })
  names.mlp = b.block("mlp", M .. "Phi3MLP", {
    b.linear("gate_up_proj", h, 2 * f, false),
    b.elementwise("activation_fn", b.activation_class(cfg, "hidden_act", "silu"), f),
    b.mul("mul", f),
    b.linear("down_proj", f, h, false),
  })
  names.layer = function (norm, attention, mlp)
    return {
      norm("input_layernorm"),
      attention,
      b.dropout("resid_attn_dropout", h),
      b.add("residual_add_attn", h),
      norm("post_attention_layernorm"),
      mlp,
      b.dropout("resid_mlp_dropout", h),
      b.add("residual_add_mlp", h),
    }
  end
  return llama.decoder(cfg, b, s, names)
end

return phi3
