-- gpt-oss (transformers models/gpt_oss/modeling_gpt_oss.py): GptOssForCausalLM = GptOssModel
-- (embed_tokens, layers x N, norm) + lm_head, untied. Each GptOssDecoderLayer: GptOssRMSNorm,
-- GptOssAttention (biases on q/k/v/o, GQA, head_dim from the config, rotary with the yarn
-- rope_scaling: it changes only the tables, no count), and per head a learned `sinks` logit that
-- joins each row's softmax (eager_attention_forward: cat, max-subtract, softmax, drop the sink), a
-- residual add, GptOssRMSNorm, GptOssMLP, a residual add. Layers alternate "sliding_attention"
-- (even indices, or the config's layer_types; sliding_window tokens: a decode step reads and caches
-- at most that many, a prefill is counted dense) and "full_attention": two `layers` entries.
-- GptOssMLP:
--   router   GptOssTopKRouter, F.linear(hidden -> num_local_experts, with bias) over every token,
--            torch.topk of num_experts_per_tok and a softmax over those k logits
--   experts  GptOssExperts, fused 3D weights with biases and the clamped SwiGLU (alpha 1.702,
--            limit 7): one layer per expert's slice, repeat E, active k; each output row times its
--            routing weight (routing_weight_mul) and summed (expert_sum)
-- transformers' eager inference forward runs every expert on every token (weights 0 off the top-k);
-- lmp counts the k a routed kernel runs, as for Mixtral and Qwen-MoE. The MXFP4 weights of the
-- Hub's checkpoints change no count (--w-bits prices them). The rotary tables are not counted.
local gemma2 = require "lmp.builders.gemma2"
local llama = require "lmp.builders.llama"

local gpt_oss = { model_types = { "gpt_oss" } }

local M = "transformers.models.gpt_oss.modeling_gpt_oss."

function gpt_oss.build(cfg, b)
  local s = llama.shape(cfg)
  s.attention_bias = cfg:bool("attention_bias", true) -- GptOssConfig's default
  local h, d, heads, kv_heads = s.hidden, s.head_dim, s.heads, s.kv_heads
  local experts, k = cfg:int("num_local_experts"), cfg:int("num_experts_per_tok")
  if k > experts then cfg:fail("num_experts_per_tok", ("%d is more than num_local_experts (%d)"):format(k, experts)) end
  local window = cfg:int("sliding_window", 128)
  local sliding = gemma2.sliding(cfg, s.layers, function (i) return i % 2 == 0 end)

  local function norm(name) return b.layer(name, M .. "GptOssRMSNorm", { N = b.TOKENS, hidden_size = h }) end
  local function attention(w)
    local bias = s.attention_bias
    return b.block("self_attn", M .. "GptOssAttention", {
      b.linear("q_proj", h, heads * d, bias),
      b.linear("k_proj", h, kv_heads * d, bias),
      b.linear("v_proj", h, kv_heads * d, bias),
      b.rotary(M .. "apply_rotary_pos_emb", heads, kv_heads, d),
      b.kv_cache("past_key_value", kv_heads, d, w),
      b.sdpa("scaled_dot_product_attention", heads, kv_heads, d, true, nil, b.window_keys(w)),
      b.layer("sinks", "torch.nn.parameter.Parameter", { numel = heads }),
      -- the sink logit: one more value in each (head, query) row's softmax
      b.elementwise("sinks_softmax", "torch.nn.modules.activation.Softmax", heads),
      b.linear("o_proj", heads * d, h, bias),
    })
  end
  local routed = ("(%s) * %d"):format(b.TOKENS, k) -- (token, chosen expert) pairs
  local expert = b.layer("experts", M .. "GptOssExperts", { N = b.TOKENS, hidden_size = h, expert_dim = s.inter })
  expert["repeat"], expert.active = experts, k
  local mlp = b.block("mlp", M .. "GptOssMLP", {
    b.layer("router", M .. "GptOssTopKRouter", { N = b.TOKENS, hidden_dim = h, num_experts = experts }),
    b.layer("topk", "torch.topk", { rows = b.TOKENS, width = experts, k = k }),
    b.elementwise("softmax", "torch.nn.modules.activation.Softmax", k),
    expert,
    b.layer("routing_weight_mul", "torch.mul", { numel = ("(%s) * %d"):format(routed, h), broadcast_numel = routed }),
    b.add("expert_sum", h, routed),
  })

  local kinds = {}
  for i, sl in ipairs(sliding) do kinds[i] = sl and "sliding_attention" or "full_attention" end
  local model = { b.embedding("embed_tokens", s.vocab, h) }
  b.append(model, b.kinds(kinds, function (kind)
    return kind == "sliding_attention" and ("sliding_attention (window %d)"):format(window) or kind
  end, function (kind, count)
    return b.block("layers", M .. "GptOssDecoderLayer", {
      norm("input_layernorm"),
      attention(kind == "sliding_attention" and window or nil),
      b.add("residual_add_attn", h),
      norm("post_attention_layernorm"),
      mlp,
      b.add("residual_add_mlp", h),
    }, count)
  end))
  model[#model + 1] = norm("norm")
  model[#model + 1] = b.rotary_embedding(M .. "GptOssRotaryEmbedding", d) -- the cos/sin tables, once a forward
  return {
    b.block("model", M .. "GptOssModel", model),
    b.lm_head("lm_head", h, s.vocab, false, s.tied and "model.embed_tokens"),
  }
end

return gpt_oss
