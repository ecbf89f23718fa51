-- Falcon (transformers models/falcon/modeling_falcon.py, as of 4.40): FalconForCausalLM =
-- FalconModel "transformer" (word_embeddings, h x N, ln_f) + lm_head (tied by default).
-- FalconAttention: one fused query_key_value FalconLinear of
--   new_decoder_architecture   (heads + 2 * num_kv_heads) * head_dim, K/V broadcast to every head
--   multi_query                (heads + 2) * head_dim, one K/V head
--   otherwise                  3 * hidden
-- rotary on q and k, attention, dense. FalconMLP: dense_h_to_4h, activation, dense_4h_to_h.
-- parallel_attn (and the new architecture): attention and MLP read the same layer norm output
-- (ln_attn / ln_mlp in the new architecture), mlp_output += attention_output, then the residual
-- add; otherwise attention, residual add, post_attention_layernorm, MLP, residual add.
-- ALiBi (Falcon-RW) is not supported: it adds a bias to the scores that sdpa here does not price.
-- FalconModel.rotary_emb computes the cos/sin tables every forward (transformers 4.46 on, where
-- the model owns it; common.rotary_embedding).

local falcon = { model_types = { "falcon" } }

local M = "transformers.models.falcon.modeling_falcon."

local function falcon_linear(b, name, i, o, bias)
  return b.layer(name, M .. "FalconLinear", { N = b.TOKENS, in_features = i, out_features = o, bias = bias })
end

function falcon.build(cfg, b)
  local h = cfg:int("hidden_size")
  local layers = cfg:layers("num_hidden_layers")
  local heads = cfg:int("num_attention_heads")
  local d = cfg:divides("hidden_size", h, "num_attention_heads", heads)
  local vocab = cfg:vocab("vocab_size")
  local new_arch = cfg:bool("new_decoder_architecture", false)
  local multi_query = cfg:bool("multi_query", true)
  local parallel = cfg:bool("parallel_attn", true)
  local bias = cfg:bool("bias", false)
  if cfg:bool("alibi", false) then cfg:fail("alibi", "ALiBi attention is not supported") end
  local ffn = cfg:int("ffn_hidden_size", 4 * h)
  local act = b.activation_class(cfg, "activation", "gelu")
  local tied = cfg:bool("tie_word_embeddings", true)

  -- heads of K/V the projection makes, and heads of K/V attention and the cache hold
  local kv_proj, kv_heads
  if new_arch then
    kv_proj = cfg:int("num_kv_heads", heads)
    cfg:divides("num_attention_heads", heads, "num_kv_heads", kv_proj)
    kv_heads = heads  -- _split_heads broadcasts K and V to every query head
  elseif multi_query then
    kv_proj, kv_heads = 1, 1
  else
    kv_proj, kv_heads = heads, heads
  end

  local attention = b.block("self_attention", M .. "FalconAttention", {
    falcon_linear(b, "query_key_value", h, (heads + 2 * kv_proj) * d, bias),
    b.rotary(M .. "apply_rotary_pos_emb", heads, kv_heads, d),
    b.kv_cache("layer_past", kv_heads, d),
    b.sdpa("scaled_dot_product_attention", heads, kv_heads, d, true),
    falcon_linear(b, "dense", h, h, bias),
  })
  local mlp = b.block("mlp", M .. "FalconMLP", {
    falcon_linear(b, "dense_h_to_4h", h, ffn, bias),
    b.elementwise("act", act, ffn),
    falcon_linear(b, "dense_4h_to_h", ffn, h, bias),
  })
  local body
  if new_arch then
    body = { b.layer_norm("ln_attn", h, true), b.layer_norm("ln_mlp", h, true), attention, mlp,
             b.add("mlp_add_attention", h), b.add("residual_add", h) }
  elseif parallel then
    body = { b.layer_norm("input_layernorm", h, true), attention, mlp,
             b.add("mlp_add_attention", h), b.add("residual_add", h) }
  else
    body = { b.layer_norm("input_layernorm", h, true), attention, b.add("residual_add_attn", h),
             b.layer_norm("post_attention_layernorm", h, true), mlp, b.add("residual_add", h) }
  end

  return {
    b.block("transformer", M .. "FalconModel", {
      b.embedding("word_embeddings", vocab, h),
      b.block("h", M .. "FalconDecoderLayer", body, layers),
      b.layer_norm("ln_f", h, true),
      b.rotary_embedding(M .. "FalconRotaryEmbedding", d),
    }),
    b.lm_head("lm_head", h, vocab, false, tied and "transformer.word_embeddings"),
  }
end

return falcon
