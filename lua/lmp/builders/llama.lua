-- Llama 1/2/3/3.1 (transformers models/llama/modeling_llama.py): LlamaForCausalLM =
-- LlamaModel (embed_tokens, layers x N, norm) + lm_head. Grouped-query attention through
-- num_key_value_heads, head_dim from the config when given. The rotary cos/sin tables are
-- buffers computed once (not per forward); applying them is apply_rotary_pos_emb.
-- Other Llama-shaped families (Mistral, Qwen2, ...) call decoder() with their own names.
local llama = { model_types = { "llama" } }

local M = "transformers.models.llama.modeling_llama."

-- shape(cfg) -> the numbers a Llama-style decoder is made of, each checked
function llama.shape(cfg)
  local s = {}
  s.hidden = cfg:int("hidden_size")
  s.inter = cfg:int("intermediate_size")
  s.layers = cfg:int("num_hidden_layers", nil, { max = 1 << 20 })
  s.heads = cfg:int("num_attention_heads")
  s.kv_heads = cfg:int("num_key_value_heads", s.heads)
  cfg:divides("num_attention_heads", s.heads, "num_key_value_heads", s.kv_heads)
  if cfg:has("head_dim") then
    s.head_dim = cfg:int("head_dim")
  else
    s.head_dim = cfg:divides("hidden_size", s.hidden, "num_attention_heads", s.heads)
  end
  s.vocab = cfg:int("vocab_size", nil, { max = 1 << 26 })
  s.tied = cfg:bool("tie_word_embeddings", false)
  s.attention_bias = cfg:bool("attention_bias", false)
  s.mlp_bias = cfg:bool("mlp_bias", false)
  return s
end

-- decoder(cfg, b, s, names) -> the layers of a Llama-shaped causal LM.
--   names.module     python module path prefix, e.g. "transformers.models.mistral.modeling_mistral."
--   names.prefix     class name prefix, e.g. "Mistral"
--   names.norm       the RMSNorm class (full name)
--   names.rotary     the apply_rotary_pos_emb function (full name)
--   s.qkv_bias       biases on q/k/v (Qwen2); s.attention_bias on all four projections
function llama.decoder(cfg, b, s, names)
  local h, d = s.hidden, s.head_dim
  local function norm(name, N)
    return b.layer(name, names.norm, { N = N or b.TOKENS, hidden_size = h })
  end
  local qkv_bias = s.attention_bias or s.qkv_bias
  local attention = b.block("self_attn", names.module .. names.prefix .. "Attention", {
    b.linear("q_proj", h, s.heads * d, qkv_bias),
    b.linear("k_proj", h, s.kv_heads * d, qkv_bias),
    b.linear("v_proj", h, s.kv_heads * d, qkv_bias),
    b.layer("apply_rotary_pos_emb", names.rotary, { batch_size = "${batch_size}", seq_len = "${seq_len}",
      num_heads = s.heads, num_kv_heads = s.kv_heads, head_dim = d }),
    b.kv_cache("past_key_value", s.kv_heads, d),
    b.sdpa("scaled_dot_product_attention", s.heads, s.kv_heads, d, true),
    b.linear("o_proj", s.heads * d, h, s.attention_bias),
  })
  local mlp = b.block("mlp", names.module .. names.prefix .. "MLP", {
    b.linear("gate_proj", h, s.inter, s.mlp_bias),
    b.elementwise("act_fn", b.activation_class(cfg, "hidden_act", "silu"), s.inter),
    b.linear("up_proj", h, s.inter, s.mlp_bias),
    b.mul("mul", s.inter),
    b.linear("down_proj", s.inter, h, s.mlp_bias),
  })
  local layer = b.block("layers", names.module .. names.prefix .. "DecoderLayer", {
    norm("input_layernorm"),
    attention,
    b.add("residual_add_attn", h),
    norm("post_attention_layernorm"),
    names.mlp or mlp,
    b.add("residual_add_mlp", h),
  }, s.layers)
  local lm_head = b.linear("lm_head", h, s.vocab, false)
  if s.tied then lm_head.weights_tied_to = "model.embed_tokens" end
  return {
    b.block("model", names.module .. names.prefix .. "Model", {
      b.embedding("embed_tokens", s.vocab, h),
      layer,
      norm("norm"),
    }),
    lm_head,
  }
end

function llama.build(cfg, b)
  return llama.decoder(cfg, b, llama.shape(cfg),
    { module = M, prefix = "Llama", norm = M .. "LlamaRMSNorm", rotary = M .. "apply_rotary_pos_emb" })
end

return llama
