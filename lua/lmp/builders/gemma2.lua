-- Gemma 2 (transformers models/gemma2/modeling_gemma2.py): Gemma2ForCausalLM = Gemma2Model
-- (embed_tokens, the sqrt(hidden) normalizer, layers x N, norm) + lm_head tied to embed_tokens,
-- then final_logit_softcapping (cap * tanh(logits / cap)) when the config sets it. Each
-- Gemma2DecoderLayer norms before and after both attention and MLP (four Gemma2RMSNorm);
-- attention scales scores by query_pre_attn_scalar^-0.5 (a scale like any other: no count
-- changes) and soft-caps them (attn_logit_softcapping, eager_attention_forward's three ops).
-- Layers alternate sliding-window (even indices, `sliding_window` tokens) and global
-- attention, or follow the config's layer_types: the two kinds are two `layers` entries with
-- their repeat counts, in that order. Gemma2Model.rotary_emb computes the rotary tables every
-- forward (as Llama's, common.rotary_embedding).
-- gemma3_text (builders/gemma3.lua) builds on decoder() below.
local llama = require "lmp.builders.llama"

local gemma2 = { model_types = { "gemma2" } }

local M = "transformers.models.gemma2.modeling_gemma2."

-- sliding(cfg, n, default) -> for each of the n layers (1-based) whether it is a sliding-window
-- layer: the config's layer_types when given, else default(layer_idx) (0-based, as in python)
function gemma2.sliding(cfg, n, default)
  local out = {}
  if not cfg:has("layer_types") then
    for i = 1, n do out[i] = default(i - 1) end
    return out
  end
  local types = cfg.raw.layer_types
  if type(types) ~= "table" or #types ~= n then
    cfg:fail("layer_types", ("expected a list of %d layer types (num_hidden_layers)"):format(n))
  end
  for i = 1, n do
    local t = types[i]
    if t ~= "sliding_attention" and t ~= "full_attention" then
      cfg:fail("layer_types", ('entry %d is %s, not "sliding_attention" or "full_attention"'):format(i, tostring(t)))
    end
    out[i] = t == "sliding_attention"
  end
  return out
end

-- softcap(cfg, field) -> the cap when the config sets one (a positive number), else nil
function gemma2.softcap(cfg, field)
  if not cfg:has(field) then return nil end
  local cap = cfg:num(field)
  if cap <= 0 then cfg:fail(field, ("expected a positive number, got %s"):format(cap)) end
  return cap
end

-- decoder(cfg, b, o) -> the layers of a Gemma-2-shaped causal LM.
--   o.module, o.prefix     python module path and class prefix ("Gemma2")
--   o.sliding              per layer: true for a sliding-window layer (gemma2.sliding)
--   o.attn_softcap         soft-cap the attention scores (Gemma 2 only)
--   o.qk_norm              q_norm and k_norm over each head (Gemma 3)
--   o.embed                the embedding layers (Embedding + normalizer, or Gemma3's scaled one)
--   o.rotary               the model's rotary embeddings' names (default { "rotary_emb" }; Gemma 3
--                          adds rotary_emb_local), each computing head_dim-wide tables a forward
function gemma2.decoder(cfg, b, s, o)
  local h, d, heads, kv_heads = s.hidden, s.head_dim, s.heads, s.kv_heads
  local norm_class = o.module .. o.prefix .. "RMSNorm"
  local function norm(name, width, N) return b.layer(name, norm_class, { N = N or b.TOKENS, hidden_size = width or h }) end
  local window = cfg:has("sliding_window") and cfg:int("sliding_window") or nil
  cfg:num("query_pre_attn_scalar", 256) -- checked: it only changes the scale's value
  local attn_cap = o.attn_softcap and gemma2.softcap(cfg, "attn_logit_softcapping")
  local final_cap = gemma2.softcap(cfg, "final_logit_softcapping")

  local function decoder_layer(w, rep, note)
    local keys = b.window_keys(w)
    local attention = {
      b.linear("q_proj", h, heads * d, s.attention_bias),
      b.linear("k_proj", h, kv_heads * d, s.attention_bias),
      b.linear("v_proj", h, kv_heads * d, s.attention_bias),
    }
    if o.qk_norm then
      b.append(attention, { norm("q_norm", d, ("%s * %d"):format(b.TOKENS, heads)),
                            norm("k_norm", d, ("%s * %d"):format(b.TOKENS, kv_heads)) })
    end
    b.append(attention, {
      b.rotary(o.module .. "apply_rotary_pos_emb", heads, kv_heads, d),
      b.kv_cache("past_key_value", kv_heads, d, w),
      b.sdpa("scaled_dot_product_attention", heads, kv_heads, d, true, nil, keys),
    })
    if attn_cap then -- between the scale and the mask, on every score
      attention[#attention + 1] = b.layer("attn_logit_softcapping", o.module .. "logit_softcapping",
        { numel = ("${batch_size} * %d * ${seq_len} * (%s)"):format(heads, keys) })
    end
    attention[#attention + 1] = b.linear("o_proj", heads * d, h, s.attention_bias)
    local layer = b.block("layers", o.module .. o.prefix .. "DecoderLayer", {
      norm("input_layernorm"),
      b.block("self_attn", o.module .. o.prefix .. "Attention", attention),
      norm("post_attention_layernorm"),
      b.add("residual_add_attn", h),
      norm("pre_feedforward_layernorm"),
      b.block("mlp", o.module .. o.prefix .. "MLP", {
        b.linear("gate_proj", h, s.inter, false),
        b.elementwise("act_fn", b.activation_class(cfg, "hidden_activation", "gelu_pytorch_tanh"), s.inter),
        b.linear("up_proj", h, s.inter, false),
        b.mul("mul", s.inter),
        b.linear("down_proj", s.inter, h, false),
      }),
      norm("post_feedforward_layernorm"),
      b.add("residual_add_mlp", h),
    }, rep)
    layer.note = note
    return layer
  end

  -- one entry per kind of layer, with the indices it stands for
  local model = b.append({}, o.embed)
  for _, kind in ipairs({ { true, "sliding_attention" }, { false, "full_attention" } }) do
    local idx = {}
    for i, sl in ipairs(o.sliding) do if sl == kind[1] then idx[#idx + 1] = i - 1 end end
    if #idx > 0 then
      local w = kind[1] and window or nil
      local shown = table.concat(idx, ", ", 1, math.min(#idx, 8)) .. (#idx > 8 and ", ..." or "")
      local note = ("%s%s: layers %s"):format(kind[2], w and (" (window " .. w .. ")") or "", shown)
      model[#model + 1] = decoder_layer(w, #idx, note)
    end
  end
  model[#model + 1] = norm("norm")
  for _, name in ipairs(o.rotary or { "rotary_emb" }) do
    model[#model + 1] = b.rotary_embedding(o.module .. o.prefix .. "RotaryEmbedding", d, name)
  end
  local head = b.lm_head("lm_head", h, s.vocab, false, s.tied and "model.embed_tokens")
  local top = { b.block("model", o.module .. (o.model_class or o.prefix .. "Model"), model), head }
  if final_cap then
    top[#top + 1] = b.elementwise("final_logit_softcapping", o.module .. "logit_softcapping", s.vocab, head.parameters.N)
  end
  return top
end

function gemma2.build(cfg, b)
  local s = llama.shape(cfg, { tied = true, head_dim = 256 })
  return gemma2.decoder(cfg, b, s, {
    module = M, prefix = "Gemma2", attn_softcap = true,
    sliding = gemma2.sliding(cfg, s.layers, function (i) return i % 2 == 0 end),
    embed = { b.embedding("embed_tokens", s.vocab, s.hidden),
              b.elementwise("normalizer", M .. "Gemma2Model.normalizer", s.hidden) },
  })
end

return gemma2
