-- Phi-1/1.5/2 (transformers models/phi/modeling_phi.py, as of 4.40): PhiForCausalLM =
-- PhiModel (embed_tokens, embed_dropout, layers x N, final_layernorm) + lm_head with a bias.
-- Each PhiDecoderLayer runs attention and the MLP in parallel on one input_layernorm
-- (LayerNorm with bias) and adds both to the residual: attn + mlp + residual, two adds.
-- Attention: q/k/v and dense all with biases; partial rotary: only the first
-- rotary_dim = int(partial_rotary_factor * head_dim) values of each head are rotated (the
-- tables are that wide), then torch.cat joins them back to the pass-through rest.
-- PhiModel.rotary_emb computes those tables every forward (transformers 4.48 on, where the
-- model owns it: common.rotary_embedding).

local phi = { model_types = { "phi" } }

local M = "transformers.models.phi.modeling_phi."

function phi.build(cfg, b)
  local h = cfg:int("hidden_size")
  local inter = cfg:int("intermediate_size")
  local layers = cfg:layers("num_hidden_layers")
  local heads = cfg:int("num_attention_heads")
  local kv_heads = cfg:int("num_key_value_heads", heads)
  cfg:divides("num_attention_heads", heads, "num_key_value_heads", kv_heads)
  local d = cfg:divides("hidden_size", h, "num_attention_heads", heads)
  local vocab = cfg:vocab("vocab_size")
  local rotary_dim = cfg:rotary_dims("partial_rotary_factor", 0.5, d)
  local qk_layernorm = cfg:bool("qk_layernorm", false)
  local tied = cfg:bool("tie_word_embeddings", false)

  local attention = {
    b.linear("q_proj", h, heads * d, true),
    b.linear("k_proj", h, kv_heads * d, true),
    b.linear("v_proj", h, kv_heads * d, true),
  }
  if qk_layernorm then
    -- nn.LayerNorm(head_dim) applied to the whole projection, as 4.40's forward does
    attention[#attention + 1] = b.layer_norm("q_layernorm", d, true, ("(%s) * %d"):format(b.TOKENS, heads))
    attention[#attention + 1] = b.layer_norm("k_layernorm", d, true, ("(%s) * %d"):format(b.TOKENS, kv_heads))
  end
  b.append(attention, {
    b.rotary(M .. "apply_rotary_pos_emb", heads, kv_heads, rotary_dim),
    b.elementwise("cat", "torch.cat", (heads + kv_heads) * d),
    b.kv_cache("past_key_value", kv_heads, d),
    b.sdpa("scaled_dot_product_attention", heads, kv_heads, d, true),
    b.linear("dense", heads * d, h, true),
  })

  local layer = b.block("layers", M .. "PhiDecoderLayer", {
    b.layer_norm("input_layernorm", h, true),
    b.block("self_attn", M .. "PhiAttention", attention),
    b.dropout("resid_dropout", h),
    b.block("mlp", M .. "PhiMLP", {
      b.linear("fc1", h, inter, true),
      b.elementwise("activation_fn", b.activation_class(cfg, "hidden_act", "gelu_new"), inter),
      b.linear("fc2", inter, h, true),
    }),
    b.dropout("resid_dropout", h),
    b.add("residual_add_attn_mlp", h),
    b.add("residual_add", h),
  }, layers)

  return {
    b.block("model", M .. "PhiModel", {
      b.embedding("embed_tokens", vocab, h),
      b.dropout("embed_dropout", h),
      layer,
      b.layer_norm("final_layernorm", h, true),
      b.rotary_embedding(M .. "PhiRotaryEmbedding", rotary_dim),
    }),
    b.lm_head("lm_head", h, vocab, true, tied and "model.embed_tokens"),
  }
end

return phi
