-- BLOOM (transformers models/bloom/modeling_bloom.py, 4.40-4.47): BloomForCausalLM =
-- transformer (BloomModel: word_embeddings, word_embeddings_layernorm, h x n_layer, ln_f) +
-- lm_head tied to word_embeddings. No position embeddings: ALiBi. build_alibi_tensor makes
-- the (batch*heads, 1, keys) bias once per forward; each BloomAttention adds it to the
-- scores (the `input` of its baddbmm), listed as a torch.add over the scores beside the
-- scaled_dot_product_attention layer that prices Q K^T, the scale, the causal mask
-- (masked_fill), the softmax and probs @ V. Attention and MLP end in dropout_add (the
-- residual add; dropout is the identity at inference), with the residual taken before
-- input_layernorm/post_attention_layernorm unless apply_residual_connection_post_layernorm.
-- The MLP is 4x hidden with BloomGelu (tanh GELU). pretraining_tp only changes how the
-- dense products are sliced when slow_but_exact (not supported: refused).
-- attn_implementation: BloomAttention computes its scores with baddbmm (ALiBi) and a softmax, no SDPA path
local bloom = { model_types = { "bloom" }, attn_implementation = "eager" }

local M = "transformers.models.bloom.modeling_bloom."

-- the first present of several names for one field (BloomConfig's attribute_map aliases),
-- read with the Reader method `read`
local function alias(cfg, names, read)
  for _, n in ipairs(names) do
    if cfg:has(n) then return read(cfg, n) end
  end
  return read(cfg, names[1]) -- none: the error names the first
end

function bloom.build(cfg, b)
  -- BloomConfig: n_embed, when given, overrides hidden_size
  local h_field = cfg:has("n_embed") and "n_embed" or "hidden_size"
  local h = cfg:int(h_field)
  local layers = alias(cfg, { "n_layer", "num_hidden_layers" }, cfg.layers)
  local heads = alias(cfg, { "n_head", "num_attention_heads" }, cfg.int)
  local head_field = cfg:has("n_head") and "n_head" or "num_attention_heads"
  local d = cfg:divides(h_field, h, head_field, heads)
  local vocab = cfg:vocab("vocab_size")
  local tied = cfg:bool("tie_word_embeddings", true)
  if cfg:bool("slow_but_exact", false) and cfg:int("pretraining_tp", 1) > 1 then
    cfg:fail("slow_but_exact", "the sliced tensor-parallel dense products (pretraining_tp > 1) are not supported")
  end
  cfg:bool("apply_residual_connection_post_layernorm", false) -- checked; the residual's source changes no count
  local scores = b.scores(heads)

  local block = b.block("h", M .. "BloomBlock", {
    b.layer_norm("input_layernorm", h, true),
    b.block("self_attention", M .. "BloomAttention", {
      b.linear("query_key_value", h, 3 * h, true),
      b.kv_cache("layer_past", heads, d),
      -- the (batch*heads, 1, keys) ALiBi tensor broadcast over the query rows of the scores
      b.layer("alibi", "torch.add", { numel = scores, broadcast_numel = ("${batch_size} * %d * (%s)"):format(heads, b.KEYS) }),
      b.sdpa("scaled_dot_product_attention", heads, heads, d, true),
      b.layer("attention_dropout", "torch.nn.modules.dropout.Dropout", { numel = scores }),
      b.linear("dense", h, h, true),
      b.add("dropout_add", h),
    }),
    b.layer_norm("post_attention_layernorm", h, true),
    b.block("mlp", M .. "BloomMLP", {
      b.linear("dense_h_to_4h", h, 4 * h, true),
      b.elementwise("gelu_impl", M .. "BloomGelu", 4 * h),
      b.linear("dense_4h_to_h", 4 * h, h, true),
      b.add("dropout_add", h),
    }),
  }, layers)

  return {
    b.block("transformer", M .. "BloomModel", {
      b.embedding("word_embeddings", vocab, h),
      b.layer_norm("word_embeddings_layernorm", h, true),
      b.layer("build_alibi_tensor", M .. "build_alibi_tensor",
        { batch_size = "${batch_size}", key_len = b.KEYS, num_heads = heads }),
      block,
      b.layer_norm("ln_f", h, true),
    }),
    b.lm_head("lm_head", h, vocab, false, tied and "transformer.word_embeddings"),
  }
end

return bloom
