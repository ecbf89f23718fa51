-- GPT-NeoX / Pythia (transformers models/gpt_neox/modeling_gpt_neox.py, 4.40-4.47):
-- GPTNeoXForCausalLM = gpt_neox (GPTNeoXModel: embed_in, emb_dropout, layers x N,
-- final_layer_norm) + embed_out (untied by default). Attention: one fused query_key_value
-- Linear (bias per attention_bias, default true), split per head into q, k, v; partial
-- rotary: only the first rotary_ndims = int(head_size * rotary_pct) values of each head of
-- q and k are rotated (apply_rotary_pos_emb, the same math as Llama's, at that width), then
-- torch.cat joins them back to the pass-through rest. use_parallel_residual (default true):
-- x + attn(ln1(x)) + mlp(ln2(x)), computed as (mlp + attn) + x, two adds; otherwise the
-- sequential x = x + attn(ln1(x)); x = x + mlp(ln2(x)). From 4.48 the slicing and the cat
-- happen inside apply_rotary_pos_emb: the same work, and GPTNeoXModel.rotary_emb computes the
-- rotary_ndims-wide cos/sin tables every forward (common.rotary_embedding; before 4.48 each
-- attention layer held cached tables). Base class names (not GPTNeoXSdpaAttention).

local gpt_neox = { model_types = { "gpt_neox" } }

local M = "transformers.models.gpt_neox.modeling_gpt_neox."

function gpt_neox.build(cfg, b)
  local h = cfg:int("hidden_size")
  local inter = cfg:int("intermediate_size")
  local layers = cfg:layers("num_hidden_layers")
  local heads = cfg:int("num_attention_heads")
  local d = cfg:divides("hidden_size", h, "num_attention_heads", heads)
  local vocab = cfg:vocab("vocab_size")
  local rotary = cfg:rotary_dims("rotary_pct", 0.25, d)
  local parallel = cfg:bool("use_parallel_residual", true)
  local tied = cfg:bool("tie_word_embeddings", false)
  local bias = cfg:bool("attention_bias", true)

  local attention = {
    b.linear("query_key_value", h, 3 * h, bias),
    b.rotary(M .. "apply_rotary_pos_emb", heads, heads, rotary),
  }
  if rotary < d then attention[#attention + 1] = b.elementwise("cat", "torch.cat", 2 * heads * d) end
  b.append(attention, {
    b.kv_cache("layer_past", heads, d),
    b.sdpa("scaled_dot_product_attention", heads, heads, d, true),
    b.layer("attention_dropout", "torch.nn.modules.dropout.Dropout", { numel = b.scores(heads) }),
    b.linear("dense", h, h, bias),
  })

  local mlp = b.block("mlp", M .. "GPTNeoXMLP", {
    b.linear("dense_h_to_4h", h, inter, true),
    b.elementwise("act", b.activation_class(cfg, "hidden_act", "gelu"), inter),
    b.linear("dense_4h_to_h", inter, h, true),
  })
  local body = {
    b.layer_norm("input_layernorm", h, true),
    b.block("attention", M .. "GPTNeoXAttention", attention),
    b.dropout("post_attention_dropout", h),
  }
  if parallel then
    b.append(body, {
      b.layer_norm("post_attention_layernorm", h, true),
      mlp,
      b.dropout("post_mlp_dropout", h),
      b.add("residual_add_mlp_attn", h),
      b.add("residual_add", h),
    })
  else
    b.append(body, {
      b.add("residual_add_attn", h),
      b.layer_norm("post_attention_layernorm", h, true),
      mlp,
      b.dropout("post_mlp_dropout", h),
      b.add("residual_add_mlp", h),
    })
  end

  return {
    b.block("gpt_neox", M .. "GPTNeoXModel", {
      b.embedding("embed_in", vocab, h),
      b.dropout("emb_dropout", h),
      b.block("layers", M .. "GPTNeoXLayer", body, layers),
      b.layer_norm("final_layer_norm", h, true),
      b.rotary_embedding(M .. "GPTNeoXRotaryEmbedding", rotary),
    }),
    b.lm_head("embed_out", h, vocab, false, tied and "gpt_neox.embed_in"),
  }
end

return gpt_neox
