-- Llama 1/2/3/3.1 (transformers models/llama/modeling_llama.py): LlamaForCausalLM =
-- LlamaModel (embed_tokens, layers x N, norm) + lm_head. Grouped-query attention through
-- num_key_value_heads, head_dim from the config when given. LlamaModel.rotary_emb computes the
-- cos/sin tables every forward (inv_freq @ position_ids, transformers 4.48 on: common.rotary_embedding);
-- applying them is apply_rotary_pos_emb. RoPE scaling (rope_scaling "linear", "dynamic", "llama3",
-- ...) only changes the tables' values, so it changes no count. Other Llama-shaped families (Mistral, Mixtral, Qwen2, Gemma) call
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

-- attention(b, s, names [, qk_norm]) -> the self_attn block of a Llama-shaped decoder layer;
-- qk_norm: layers run on q and k after their projections (Qwen3's and OLMo2's q_norm, k_norm)
function llama.attention(b, s, names, qk_norm)
  local h, d = s.hidden, s.head_dim
  local qkv_bias = s.attention_bias or s.qkv_bias
  return b.block("self_attn", names.module .. names.prefix .. "Attention", b.append(b.append({
    b.linear("q_proj", h, s.heads * d, qkv_bias),
    b.linear("k_proj", h, s.kv_heads * d, qkv_bias),
    b.linear("v_proj", h, s.kv_heads * d, qkv_bias),
  }, qk_norm or {}), {
    b.rotary(names.module .. "apply_rotary_pos_emb", s.heads, s.kv_heads, d),
    b.kv_cache("past_key_value", s.kv_heads, d, s.window),
    b.sdpa("scaled_dot_product_attention", s.heads, s.kv_heads, d, true, nil, b.window_keys(s.window)),
    b.linear("o_proj", s.heads * d, h, s.attention_bias),
  }))
end

-- decoder(cfg, b, s, names) -> the layers of a Llama-shaped causal LM.
--   names.module     python module path prefix, e.g. "transformers.models.mistral.modeling_mistral."
--   names.prefix     class name prefix, e.g. "Mistral"
--   names.norm       the RMSNorm class (full name), or function(name, N) -> a norm layer (StarCoder2's LayerNorm)
--   names.act        the MLP's activation class (default: from hidden_act, silu)
--   names.mlp        a block replacing the gated MLP (Mixtral's block_sparse_moe)
--   names.mlps       { {mlp = block, count = n}, ... }: layers that differ in their MLP, in order
--                    (Qwen2-MoE's decoder_sparse_step and mlp_only_layers)
--   names.embed      layers run on the embeddings before the first decoder layer (Gemma's scale)
--   s.rotary_dim     the values of each head the rotary turns (default head_dim; Phi-3's partial rotary)
--   names.attention  a block replacing self_attn (Phi-3's fused qkv_proj, Qwen3's q/k norms)
--   names.layer      function(norm, attention, mlp) -> a decoder layer's sub-layers in place
--                    of the pre-norm order (OLMo2's post-norms, Granite's residual multiplier)
--   s.qkv_bias       biases on q/k/v (Qwen2); s.attention_bias on all four projections
--   s.window         a sliding window (Mistral's sliding_window): attention reads and the
--                    cache holds at most that many tokens (common.window_keys, common.kv_cache)
function llama.decoder(cfg, b, s, names)
  local h = s.hidden
  local function norm(name, N)
    if type(names.norm) == "function" then return names.norm(name, N or b.TOKENS) end
    return b.layer(name, names.norm, { N = N or b.TOKENS, hidden_size = h })
  end
  local attention = names.attention or llama.attention(b, s, names)
  local mlp = names.mlp or b.block("mlp", names.module .. names.prefix .. "MLP", {
    b.linear("gate_proj", h, s.inter, s.mlp_bias),
    b.elementwise("act_fn", names.act or b.activation_class(cfg, "hidden_act", "silu"), s.inter),
    b.linear("up_proj", h, s.inter, s.mlp_bias),
    b.mul("mul", s.inter),
    b.linear("down_proj", s.inter, h, s.mlp_bias),
  })
  local function layer(name, mlp_block, count)
    return b.block(name, names.module .. names.prefix .. "DecoderLayer", names.layer and names.layer(norm, attention, mlp_block) or {
      norm("input_layernorm"),
      attention,
      b.add("residual_add_attn", h),
      norm("post_attention_layernorm"),
      mlp_block,
      b.add("residual_add_mlp", h),
    }, count)
  end
  local model = b.append({ b.embedding("embed_tokens", s.vocab, h) }, names.embed or {})
  if not names.mlps then
    model[#model + 1] = layer("layers", mlp, s.layers)
  else -- runs of consecutive layers with the same MLP: "layers.<first index>"
    local first = 0
    for _, run in ipairs(names.mlps) do
      local l = layer("layers." .. first, run.mlp, run.count)
      if run.count > 1 then l.note = ("layers %d to %d"):format(first, first + run.count - 1) end
      model[#model + 1] = l
      first = first + run.count
    end
  end
  model[#model + 1] = norm("norm")
  model[#model + 1] = b.rotary_embedding(names.module .. names.prefix .. "RotaryEmbedding", s.rotary_dim or s.head_dim)
  return {
    b.block("model", names.module .. names.prefix .. "Model", model),
    b.lm_head("lm_head", h, s.vocab, false, s.tied and "model.embed_tokens"),
  }
end

function llama.build(cfg, b)
  return llama.decoder(cfg, b, llama.shape(cfg), { module = M, prefix = "Llama", norm = M .. "LlamaRMSNorm" })
end

return llama
