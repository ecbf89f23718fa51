-- T5 (transformers models/t5/modeling_t5.py, 4.46-4.50): T5ForConditionalGeneration = shared
-- (the one token Embedding) + encoder and decoder (T5Stack: embed_tokens = shared, dropout,
-- block x N, final_layer_norm, dropout) + lm_head tied to shared. T5LayerNorm is an RMSNorm
-- without bias; no Linear has a bias; attention is unscaled (Mesh TensorFlow folds the scale
-- into the initialisation) and adds a position bias to the scores: block 0 of each stack
-- owns relative_attention_bias (buckets x heads) and computes the bias (the bucket of each
-- query/key distance, looked up, plus the attention mask); the other blocks reuse it. The
-- decoder's cross-attention adds only the encoder mask. The scores, bias add, softmax and
-- probs @ V are the scaled_dot_product_attention layer (an additive mask, scale 1).
--
-- Runtime: the encoder runs once, in the prefill (kv_len == 0), over ${enc_len} positions
-- (default kv_len + seq_len: in a decode step, the prompt the encoder saw);
-- the decoder processes ${seq_len} tokens over ${kv_len} cached ones and cross-attends to
-- enc_len encoder positions, whose K and V are projected and cached in the prefill only.
-- With tied embeddings the decoder output is scaled by d_model^-0.5 before lm_head.
-- The fp16-only clamps of T5Block (isinf().any(), clamp) are not listed.
local core = require "lmp.core"

-- attn_implementation: T5Attention adds its relative position bias to explicit scores, no SDPA path
local t5 = { model_types = { "t5" }, attn_implementation = "eager" }

local M = "transformers.models.t5.modeling_t5."

-- the encoder's rows this step: all of them in the prefill, none in a decode step
local ENC_BATCH = "(${kv_len} == 0 ? ${batch_size} : 0)"
local ENC_TOKENS = ENC_BATCH .. " * ${enc_len}"
local ENC_QUERIES = "(${kv_len} == 0 ? ${enc_len} : 0)"

-- the activation and gating of feed_forward_proj, as T5Config parses it
local function feed_forward(cfg, b)
  local proj = cfg:str("feed_forward_proj", "relu")
  local parts = {}
  for p in proj:gmatch("[^-]+") do parts[#parts + 1] = p end
  local gated = parts[1] == "gated"
  if #parts == 0 or #parts > 2 or (#parts == 2 and not gated) then
    cfg:fail("feed_forward_proj", ('"%s" is not of the form "act" or "gated-act"'):format(proj))
  end
  local act = parts[#parts]
  if proj == "gated-gelu" then act = "gelu_new" end
  local class = b.ACTIVATIONS[act]
  if not class then cfg:fail("feed_forward_proj", ('activation "%s" is not supported'):format(act)) end
  return class, gated
end

function t5.build(cfg, b)
  local archs = cfg.raw.architectures
  if archs ~= nil and archs ~= core.null then
    if type(archs) ~= "table" or type(archs[1]) ~= "string" then cfg:fail("architectures", "expected a list of class names") end
    if archs[1] ~= "T5ForConditionalGeneration" then
      cfg:fail("architectures", ('"%s" is not supported (supported: T5ForConditionalGeneration)'):format(archs[1]))
    end
  end
  if not cfg:bool("is_encoder_decoder", true) then cfg:fail("is_encoder_decoder", "T5ForConditionalGeneration needs true") end
  local dm = cfg:int("d_model")
  local ff = cfg:int("d_ff")
  local dkv = cfg:int("d_kv")
  local heads = cfg:int("num_heads")
  local enc_layers = cfg:layers("num_layers")
  local dec_layers = cfg:layers("num_decoder_layers", enc_layers)
  local vocab = cfg:vocab("vocab_size")
  local buckets = cfg:int("relative_attention_num_buckets", 32)
  local tied = cfg:bool("tie_word_embeddings", true)
  local act, gated = feed_forward(cfg, b)
  local inner = heads * dkv

  local function norm(name, N) return b.layer(name, M .. "T5LayerNorm", { N = N, hidden_size = dm }) end
  local function linear(name, i, o, N) return b.linear(name, i, o, false, N) end
  local function scores(batch, q, k) return ("%s * %d * %s * (%s)"):format(batch, heads, q, k) end

  -- the bias block 0 computes: buckets of q x k distances, their lookup, the mask added
  local function position_bias(batch, q, k, bidirectional)
    return {
      b.layer("relative_position_bucket", M .. "T5Attention._relative_position_bucket",
        { q_len = q, key_len = k, bidirectional = bidirectional }),
      b.embedding("relative_attention_bias", buckets, heads, ("%s * (%s)"):format(q, k)),
      b.layer("add_mask", "torch.add", { numel = scores(batch, q, k) }),
    }
  end

  local function feed_forward_layer(name, N)
    local dense
    if gated then
      dense = b.block("DenseReluDense", M .. "T5DenseGatedActDense", {
        linear("wi_0", dm, ff, N),
        b.elementwise("act", act, ff, N),
        linear("wi_1", dm, ff, N),
        b.mul("mul", ff, N),
        b.dropout("dropout", ff, N),
        linear("wo", ff, dm, N),
      })
    else
      dense = b.block("DenseReluDense", M .. "T5DenseActDense", {
        linear("wi", dm, ff, N),
        b.elementwise("act", act, ff, N),
        b.dropout("dropout", ff, N),
        linear("wo", ff, dm, N),
      })
    end
    return b.block(name, M .. "T5LayerFF", {
      norm("layer_norm", N), dense, b.dropout("dropout", dm, N), b.add("residual_add", dm, N),
    })
  end

  -- T5LayerSelfAttention / T5LayerCrossAttention: x + dropout(attention(layer_norm(x)))
  local function attention_layer(name, class, attention_name, attention, N)
    return b.block(name, M .. class, {
      norm("layer_norm", N),
      b.block(attention_name, M .. "T5Attention", attention),
      b.dropout("dropout", dm, N),
      b.add("residual_add", dm, N),
    })
  end

  -- encoder block: self-attention over enc_len positions, in the prefill only
  local function encoder_block(name, first, rep)
    local N = ENC_TOKENS
    local attn = { linear("q", dm, inner, N), linear("k", dm, inner, N), linear("v", dm, inner, N) }
    if first then
      b.append(attn, position_bias(ENC_BATCH, ENC_QUERIES, "${enc_len}", true))
    end
    local sdpa = b.sdpa("scaled_dot_product_attention", heads, heads, dkv, true, "${enc_len}", "${enc_len}")
    sdpa.parameters.batch_size = ENC_BATCH
    attn[#attn + 1] = sdpa
    attn[#attn + 1] = linear("o", inner, dm, N)
    return b.block(name, M .. "T5Block", {
      attention_layer("layer.0", "T5LayerSelfAttention", "SelfAttention", attn, N),
      feed_forward_layer("layer.1", N),
    }, rep)
  end

  -- decoder block: causal self-attention over the KV cache, cross-attention to the encoder
  local function decoder_block(name, first, rep)
    local N = b.TOKENS
    local self_attn = {
      linear("q", dm, inner, N), linear("k", dm, inner, N), linear("v", dm, inner, N),
      b.kv_cache("past_key_value", heads, dkv),
    }
    if first then
      b.append(self_attn, position_bias("${batch_size}", "${seq_len}", b.KEYS, false))
    end
    self_attn[#self_attn + 1] = b.sdpa("scaled_dot_product_attention", heads, heads, dkv, true)
    self_attn[#self_attn + 1] = linear("o", inner, dm, N)

    local cross = {
      linear("q", dm, inner, N),
      linear("k", dm, inner, ENC_TOKENS),
      linear("v", dm, inner, ENC_TOKENS),
      b.layer("past_key_value", "transformers.cache_utils.StaticCache", {
        batch_size = "${batch_size}", num_kv_heads = heads, head_dim = dkv,
        new_tokens = ENC_QUERIES, cached_tokens = "(${kv_len} == 0 ? 0 : ${enc_len})" }),
    }
    if first then cross[#cross + 1] = b.layer("add_mask", "torch.add", { numel = scores("${batch_size}", "${seq_len}", "${enc_len}") }) end
    cross[#cross + 1] = b.sdpa("scaled_dot_product_attention", heads, heads, dkv, true, "${seq_len}", "${enc_len}")
    cross[#cross + 1] = linear("o", inner, dm, N)

    return b.block(name, M .. "T5Block", {
      attention_layer("layer.0", "T5LayerSelfAttention", "SelfAttention", self_attn, N),
      attention_layer("layer.1", "T5LayerCrossAttention", "EncDecAttention", cross, N),
      feed_forward_layer("layer.2", N),
    }, rep)
  end

  local function stack(name, N, make, layers)
    local embed = b.embedding("embed_tokens", vocab, dm, N)
    embed.weights_tied_to = "shared"
    local blocks = { embed, b.dropout("dropout", dm, N), make("block.0", true) }
    if layers > 1 then
      local rest = make("block", false, layers - 1)
      rest.note = ("blocks 1 to %d: block 0 without the position-bias computation"):format(layers - 1)
      blocks[#blocks + 1] = rest
    end
    blocks[#blocks + 1] = norm("final_layer_norm", N)
    blocks[#blocks + 1] = b.dropout("dropout", dm, N)
    return b.block(name, M .. "T5Stack", blocks)
  end

  local out = {
    -- called only through encoder/decoder.embed_tokens: holds the weights, looks nothing up
    b.embedding("shared", vocab, dm, 0),
    stack("encoder", ENC_TOKENS, encoder_block, enc_layers),
    stack("decoder", b.TOKENS, decoder_block, dec_layers),
  }
  if tied then out[#out + 1] = b.scale("scale_decoder_outputs", dm) end
  -- every decoder position (T5ForConditionalGeneration has no logits_to_keep)
  out[#out + 1] = b.lm_head("lm_head", dm, vocab, false, tied and "shared", b.TOKENS)
  return out
end

return t5
