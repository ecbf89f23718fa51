-- Llama 4, text model (transformers models/llama4/modeling_llama4.py): Llama4ForCausalLM =
-- Llama4TextModel (embed_tokens, layers x N, norm) + lm_head. A config of model_type "llama4"
-- (Llama4ForConditionalGeneration, the Hub's Scout and Maverick) is read through its
-- text_config and built as that text model: the vision model and projector are left out.
-- Each Llama4TextDecoderLayer has a feed_forward that is, for the layers in moe_layers (default
-- every interleave_moe_layer_step-th: step - 1, 2 * step - 1, ...), a Llama4TextMoe:
--   router         Llama4Router, an nn.Linear(hidden, num_local_experts) over every token, then
--                  torch.topk of num_experts_per_tok and a sigmoid over the E scores (-inf off the top-k)
--   experts        Llama4TextExperts, fused 3D weights: one layer per expert's slice, repeat E,
--                  active k; the routed rows are scaled by their score before (routing_weight_mul)
--                  and summed into the shared expert's output after (routed_add)
--   shared_expert  Llama4TextMLP(intermediate_size) over every token
-- and otherwise a dense Llama4TextMLP(intermediate_size_mlp). transformers' eager Llama4TextMoe
-- runs every expert on every token (scores 0 off the top-k); lmp counts the k a routed kernel runs,
-- as for Mixtral and Qwen-MoE.
-- Attention: no_rope_layers[i] = 1 marks a RoPE layer (default: all but every 4th). RoPE layers apply
-- apply_rotary_emb (complex freqs_cis), then Llama4TextL2Norm on q and k when use_qk_norm, and are
-- "chunked_attention" (layer_types' default): a token attends only within its attention_chunk_size
-- chunk. transformers' cache keeps at most that many tokens for them, so a decode step reads and
-- caches at most attention_chunk_size keys (common.window_keys, common.kv_cache); a prefill is counted
-- dense over its keys, as the kernel runs it under the chunked mask. NoPE layers are global and,
-- with attn_temperature_tuning, scale their queries by position. The rotary tables are not counted
-- (as for Llama).
local core = require "lmp.core"
local llama = require "lmp.builders.llama"

local llama4 = { model_types = { "llama4_text", "llama4" } }

local M = "transformers.models.llama4.modeling_llama4."

-- list(cfg, field) -> the config's list, or nil when it is absent or null
local function list(cfg, field)
  local v = cfg.raw[field]
  if v == nil or v == core.null then return nil end
  if type(v) ~= "table" then cfg:fail(field, "expected a list") end
  return v
end

-- the kind of each layer: "<rope|nope> <chunked|full> <moe|dense>"
local function layer_kinds(cfg, n)
  local rope, moe, chunked = {}, {}, {}
  local flags = list(cfg, "no_rope_layers")
  if flags and #flags == 0 then flags = nil end -- Llama4TextConfig: an empty list takes the default
  if flags and #flags ~= n then cfg:fail("no_rope_layers", ("expected %d entries (num_hidden_layers), got %d"):format(n, #flags)) end
  local interval = cfg:int("no_rope_layer_interval", 4)
  for i = 0, n - 1 do
    local f = flags and flags[i + 1]
    if flags and f ~= 0 and f ~= 1 and type(f) ~= "boolean" then cfg:fail("no_rope_layers", ("entry %d is not 0 or 1"):format(i + 1)) end
    if flags then rope[i] = f == 1 or f == true else rope[i] = (i + 1) % interval ~= 0 end
  end
  local moe_list = list(cfg, "moe_layers") -- an empty list: no MoE layer
  if moe_list then
    for i, v in ipairs(moe_list) do
      if math.type(v) ~= "integer" or v < 0 or v >= n then cfg:fail("moe_layers", ("entry %d is not a layer index"):format(i)) end
      moe[v] = true
    end
  else
    local step = cfg:int("interleave_moe_layer_step", 1)
    for i = step - 1, n - 1, step do moe[i] = true end
  end
  local types = list(cfg, "layer_types")
  if types and #types ~= n then cfg:fail("layer_types", ("expected a list of %d layer types (num_hidden_layers)"):format(n)) end
  local kinds = {}
  for i = 0, n - 1 do
    if types then
      local t = types[i + 1]
      if t ~= "chunked_attention" and t ~= "full_attention" then
        cfg:fail("layer_types", ('entry %d is %s, not "chunked_attention" or "full_attention"'):format(i + 1, tostring(t)))
      end
      chunked[i] = t == "chunked_attention"
    else
      chunked[i] = rope[i]
    end
    kinds[i + 1] = ("%s %s %s"):format(rope[i] and "rope" or "nope", chunked[i] and "chunked" or "full", moe[i] and "moe" or "dense")
  end
  return kinds
end

-- truthy(cfg, field, default): true/false, or a number (the Hub's Scout has attn_temperature_tuning 4;
-- the modeling code tests it as a bool)
local function truthy(cfg, field, default)
  local v = cfg.raw[field]
  if type(v) == "number" then return v ~= 0 end
  return cfg:bool(field, default)
end

function llama4.build(cfg, b)
  if cfg.raw.model_type == "llama4" then
    if type(cfg.raw.text_config) ~= "table" then cfg:fail("text_config", "missing (a llama4 config holds its text model there)") end
    cfg = b.reader(cfg.raw.text_config, cfg.source .. ": text_config")
  end
  local s = llama.shape(cfg)
  local h, d, heads, kv_heads = s.hidden, s.head_dim, s.heads, s.kv_heads
  local act = b.activation_class(cfg, "hidden_act", "silu")
  if act ~= b.ACTIVATIONS.silu then cfg:fail("hidden_act", "Llama4TextExperts is priced with silu only") end
  local experts, k = cfg:int("num_local_experts"), cfg:int("num_experts_per_tok")
  if k > experts then cfg:fail("num_experts_per_tok", ("%d is more than num_local_experts (%d)"):format(k, experts)) end
  local chunk = cfg:has("attention_chunk_size") and cfg:int("attention_chunk_size") or nil
  local qk_norm = cfg:bool("use_qk_norm", true)
  local tuning = truthy(cfg, "attn_temperature_tuning", true)
  local inter_mlp = cfg:int("intermediate_size_mlp")
  local kinds = layer_kinds(cfg, s.layers)

  local function norm(name) return b.layer(name, M .. "Llama4TextRMSNorm", { N = b.TOKENS, hidden_size = h }) end
  local function mlp(name, f)
    return b.block(name, M .. "Llama4TextMLP", {
      b.linear("gate_proj", h, f, false),
      b.elementwise("activation_fn", act, f),
      b.linear("up_proj", h, f, false),
      b.mul("mul", f),
      b.linear("down_proj", f, h, false),
    })
  end
  local function attention(rope, window)
    local parts = {
      b.linear("q_proj", h, heads * d, s.attention_bias),
      b.linear("k_proj", h, kv_heads * d, s.attention_bias),
      b.linear("v_proj", h, kv_heads * d, s.attention_bias),
    }
    if rope then
      local rotary = b.rotary(M .. "apply_rotary_emb", heads, kv_heads, d)
      rotary.name = "apply_rotary_emb"
      parts[#parts + 1] = rotary
      if qk_norm then -- one module, on q and then k: its rows are both's
        parts[#parts + 1] = b.layer("qk_norm", M .. "Llama4TextL2Norm", { N = ("%s * %d"):format(b.TOKENS, heads + kv_heads), hidden_size = d })
      end
    elseif tuning then
      parts[#parts + 1] = b.layer("attn_temperature_tuning", M .. "Llama4TextAttention.attn_temperature_tuning",
        { batch_size = "${batch_size}", seq_len = "${seq_len}", num_heads = heads, head_dim = d })
    end
    return b.block("self_attn", M .. "Llama4TextAttention", b.append(parts, {
      b.kv_cache("past_key_value", kv_heads, d, window),
      b.sdpa("scaled_dot_product_attention", heads, kv_heads, d, true, nil, b.window_keys(window)),
      b.linear("o_proj", heads * d, h, s.attention_bias),
    }))
  end
  local routed = ("(%s) * %d"):format(b.TOKENS, k) -- (token, chosen expert) pairs
  local expert = b.layer("experts", M .. "Llama4TextExperts", { N = b.TOKENS, hidden_size = h, expert_dim = s.inter })
  expert["repeat"], expert.active = experts, k
  local moe = b.block("feed_forward", M .. "Llama4TextMoe", {
    b.layer("router", M .. "Llama4Router", { N = b.TOKENS, in_features = h, out_features = experts }),
    b.layer("topk", "torch.topk", { rows = b.TOKENS, width = experts, k = k }),
    b.elementwise("sigmoid", "torch.nn.modules.activation.Sigmoid", experts),
    b.layer("routing_weight_mul", "torch.mul", { numel = ("(%s) * %d"):format(routed, h), broadcast_numel = routed }),
    expert,
    mlp("shared_expert", s.inter),
    b.add("routed_add", h, routed),
  })

  local model = { b.embedding("embed_tokens", s.vocab, h) }
  b.append(model, b.kinds(kinds, function (kind)
    local rope, chunked, sparse = kind:match("^(%a+) (%a+) (%a+)$")
    return ("%s, %s%s, %s"):format(rope == "rope" and "RoPE" or "NoPE",
      chunked == "chunked" and "chunked_attention" or "full_attention",
      (chunked == "chunked" and chunk) and (" (chunk " .. chunk .. ")") or "", sparse == "moe" and "Llama4TextMoe" or "Llama4TextMLP")
  end, function (kind, count)
    local rope, chunked, sparse = kind:match("^(%a+) (%a+) (%a+)$")
    return b.block("layers", M .. "Llama4TextDecoderLayer", {
      norm("input_layernorm"),
      attention(rope == "rope", chunked == "chunked" and chunk or nil),
      b.add("residual_add_attn", h),
      norm("post_attention_layernorm"),
      sparse == "moe" and moe or mlp("feed_forward", inter_mlp),
      b.add("residual_add_mlp", h),
    }, count)
  end))
  model[#model + 1] = norm("norm")
  model[#model + 1] = b.rotary_embedding(M .. "Llama4TextRotaryEmbedding", d) -- freqs_cis, once a forward
  return {
    b.block("model", M .. "Llama4TextModel", model),
    b.lm_head("lm_head", h, s.vocab, false, s.tied and "model.embed_tokens"),
  }
end

return llama4
