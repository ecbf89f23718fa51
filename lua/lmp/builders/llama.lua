-- Llama 1/2/3/3.1 (transformers models/llama/modeling_llama.py): LlamaForCausalLM =
-- LlamaModel (embed_tokens, layers x N, norm) + lm_head. Grouped-query attention through
-- num_key_value_heads, head_dim from the config when given. The rotary cos/sin tables are
-- buffers computed once (not per forward); applying them is apply_rotary_pos_emb. RoPE
-- scaling (rope_scaling "linear", "dynamic", "llama3", ...) only changes those tables, so it
-- changes no count. Other Llama-shaped families (Mistral, Mixtral, Qwen2, Gemma) call
-- decoder() with their own names.
local llama = { model_types = { "llama" } }

local M = "transformers.models.llama.modeling_llama."

-- Every family's apply_rotary_pos_emb is "Copied from" Llama's (the same math), and the
-- registry maps one db key (transformers_apply_rotary_pos_emb) to one class: all of them
-- are priced as Llama's.

-- shape(cfg [, defaults]) -> the numbers a Llama-style decoder is made of, each checked.
--   defaults.tied       tie_word_embeddings when the config leaves it out (Gemma: true)
--   defaults.head_dim   head_dim when the config leaves it out (Gemma: 256)
function llama.shape(cfg, defaults)
  defaults = defaults or {}
  local s = {}
  s.hidden = cfg:int("hidden_size")
  s.inter = cfg:int("intermediate_size")
  s.layers = cfg:layers("num_hidden_layers")
  s.heads = cfg:int("num_attention_heads")
  s.kv_heads = cfg:int("num_key_value_heads", s.heads)
  cfg:divides("num_attention_heads", s.heads, "num_key_value_heads", s.kv_heads)
  if cfg:has("head_dim") or defaults.head_dim then
    s.head_dim = cfg:int("head_dim", defaults.head_dim)
  else
    s.head_dim = cfg:divides("hidden_size", s.hidden, "num_attention_heads", s.heads)
  end
  s.vocab = cfg:vocab("vocab_size")
  s.tied = cfg:bool("tie_word_embeddings", defaults.tied or false)
  s.attention_bias = cfg:bool("attention_bias", false)
  s.mlp_bias = cfg:bool("mlp_bias", false)
  if cfg:has("rope_scaling") and type(cfg.raw.rope_scaling) ~= "table" then
    cfg:fail("rope_scaling", "expected an object or null")
  end
  return s
end

-- decoder(cfg, b, s, names) -> the layers of a Llama-shaped causal LM.
--   names.module     python module path prefix, e.g. "transformers.models.mistral.modeling_mistral."
--   names.prefix     class name prefix, e.g. "Mistral"
--   names.norm       the RMSNorm class (full name)
--   names.act        the MLP's activation class (default: from hidden_act, silu)
--   names.mlp        a block replacing the gated MLP (Mixtral's block_sparse_moe)
--   names.embed      layers run on the embeddings before the first decoder layer (Gemma's scale)
--   s.qkv_bias       biases on q/k/v (Qwen2); s.attention_bias on all four projections
--   s.window         a sliding window (Mistral's sliding_window): attention reads and the
--                    cache holds at most that many tokens (common.window_keys, common.kv_cache)
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
    b.rotary(names.module .. "apply_rotary_pos_emb", s.heads, s.kv_heads, d),
    b.kv_cache("past_key_value", s.kv_heads, d, s.window),
    b.sdpa("scaled_dot_product_attention", s.heads, s.kv_heads, d, true, nil, b.window_keys(s.window)),
    b.linear("o_proj", s.heads * d, h, s.attention_bias),
  })
  local mlp = names.mlp or b.block("mlp", names.module .. names.prefix .. "MLP", {
    b.linear("gate_proj", h, s.inter, s.mlp_bias),
    b.elementwise("act_fn", names.act or b.activation_class(cfg, "hidden_act", "silu"), s.inter),
    b.linear("up_proj", h, s.inter, s.mlp_bias),
    b.mul("mul", s.inter),
    b.linear("down_proj", s.inter, h, s.mlp_bias),
  })
  local layer = b.block("layers", names.module .. names.prefix .. "DecoderLayer", {
    norm("input_layernorm"),
    attention,
    b.add("residual_add_attn", h),
    norm("post_attention_layernorm"),
    mlp,
    b.add("residual_add_mlp", h),
  }, s.layers)
  local model = b.append({ b.embedding("embed_tokens", s.vocab, h) }, names.embed or {})
  model[#model + 1] = layer
  model[#model + 1] = norm("norm")
  return {
    b.block("model", names.module .. names.prefix .. "Model", model),
    b.lm_head("lm_head", h, s.vocab, false, s.tied and "model.embed_tokens"),
  }
end

function llama.build(cfg, b)
  return llama.decoder(cfg, b, llama.shape(cfg), { module = M, prefix = "Llama", norm = M .. "LlamaRMSNorm" })
end

return llama
