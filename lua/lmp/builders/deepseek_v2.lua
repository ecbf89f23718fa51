-- DeepSeek-V2 (transformers models/deepseek_v2/modeling_deepseek_v2.py, as of 4.5x):
-- DeepseekV2ForCausalLM, Llama's layer order (two RMSNorms, residual adds) with multi-head
-- latent attention (MLA) and, from layer first_k_dense_replace on, a DeepseekV2MoE in place of
-- the dense DeepseekV2MLP of intermediate_size. DeepSeek-V3 (deepseek_v3.lua) shares all but
-- the router.
--   self_attn  q_proj (hidden -> heads * qk_head_dim) when q_lora_rank is null (V2-Lite), else
--              q_a_proj (hidden -> q_lora_rank), q_a_layernorm, q_b_proj (-> heads * qk_head_dim);
--              kv_a_proj_with_mqa (hidden -> kv_lora_rank + qk_rope_head_dim), kv_a_layernorm on
--              the latent, kv_b_proj (kv_lora_rank -> heads * (qk_nope_head_dim + v_head_dim));
--              qk_head_dim = qk_nope_head_dim + qk_rope_head_dim. The rotary turns only the rope
--              part: q's heads and k's single shared rope head. torch.cat joins the nope and rope
--              parts of q and of k (k's rope head expanded to every head), the scores run over
--              qk_head_dim and the values are v_head_dim (the sdpa's v_head_dim), o_proj
--              (heads * v_head_dim -> hidden). K and V have num_attention_heads heads (kv_b_proj's
--              output): num_key_value_heads is 1:1 in every config and not used.
--   KV cache   the compressed latent and the rotated rope key, kv_lora_rank + qk_rope_head_dim
--              values a token a layer (one tensor, StaticCache with values = false): what the
--              DeepSeek-V2 paper describes (sec. 2.1.2) and serving engines (vLLM, SGLang) keep.
--              transformers' DynamicCache holds the expanded K and V (heads * (qk_head_dim +
--              v_head_dim) a token, 71x more for V3); the compute counted is transformers'
--              forward (kv_b_proj over the new tokens, attention over the heads' K and V).
--   mlp        DeepseekV2MoE: gate (DeepseekV2MoEGate, a weight of n_routed_experts x hidden:
--              F.linear, softmax, top-k by topk_method greedy or group_limited_greedy (each of
--              n_group groups scored by its max, the topk_group best kept), times
--              routed_scaling_factor; norm_topk_prob is read by the gate but not applied in
--              transformers' V2), experts (n_routed_experts x DeepseekV2MLP of
--              moe_intermediate_size, num_experts_per_tok active), each token's k outputs times
--              their weights and summed, and shared_experts (a DeepseekV2MLP of
--              moe_intermediate_size * n_shared_experts) added.
-- (Later releases fuse the experts into one DeepseekV2Experts of 3-D weights and make the gate a
-- Linear: the same parameters and products.)
-- moe_layer_freq: transformers' DeepseekV2DecoderLayer ignores it (MoE in every layer from
-- first_k_dense_replace); a value other than 1 is refused rather than modelled wrongly.
local core = require "lmp.core"
local llama = require "lmp.builders.llama"
local qwen2_moe = require "lmp.builders.qwen2_moe"

local deepseek_v2 = { model_types = { "deepseek_v2" } }

local M = "transformers.models.deepseek_v2.modeling_deepseek_v2."

-- shape(cfg, defaults) -> llama.shape's sizes and MLA's (q_lora, kv_lora, nope, rope, v) and MoE's
-- (experts, k, moe_inter, shared_inter, first_dense). Sizes are required, as llama.shape's are;
-- the fields whose absence changes the structure take the config class's default
-- (defaults.first_dense, defaults.shared: DeepseekV2Config's 0 and 2, V3's 3 and 1). q_lora_rank
-- null is a single q_proj; absent it is both classes' 1536.
function deepseek_v2.shape(cfg, defaults)
  local rope = cfg:int("qk_rope_head_dim")
  local s = llama.shape(cfg, { head_dim = rope }) -- the configs' head_dim is qk_rope_head_dim
  if s.mlp_bias then cfg:fail("mlp_bias", "true is not modelled (no released DeepSeek config has MLP biases)") end
  if cfg.raw.q_lora_rank ~= core.null then s.q_lora = cfg:int("q_lora_rank", 1536) end
  s.kv_lora, s.nope, s.rope, s.v = cfg:int("kv_lora_rank"), cfg:int("qk_nope_head_dim"), rope, cfg:int("v_head_dim")
  s.qk = s.nope + s.rope
  s.experts, s.k = cfg:int("n_routed_experts"), cfg:int("num_experts_per_tok")
  if s.k > s.experts then cfg:fail("num_experts_per_tok", ("%d is more than n_routed_experts (%d)"):format(s.k, s.experts)) end
  s.moe_inter = cfg:int("moe_intermediate_size")
  -- null: no shared experts (V2's `if config.n_shared_experts is not None`)
  s.shared_inter = s.moe_inter * (cfg.raw.n_shared_experts == core.null and 0 or cfg:int("n_shared_experts", defaults.shared))
  s.first_dense = cfg:int("first_k_dense_replace", defaults.first_dense, { min = 0 })
  if cfg:int("moe_layer_freq", 1) ~= 1 then
    cfg:fail("moe_layer_freq", "only 1 is modelled (transformers builds an MoE in every layer from first_k_dense_replace)")
  end
  return s
end

-- attention(b, s, names) -> the MLA self_attn block; names.rotary: the rotary function's class
function deepseek_v2.attention(b, s, names)
  local h, heads = s.hidden, s.heads
  local function norm(name, d) return b.layer(name, names.norm, { N = b.TOKENS, hidden_size = d }) end
  local q = s.q_lora and {
    b.linear("q_a_proj", h, s.q_lora, s.attention_bias),
    norm("q_a_layernorm", s.q_lora),
    b.linear("q_b_proj", s.q_lora, heads * s.qk, false),
  } or { b.linear("q_proj", h, heads * s.qk, false) }
  local cache = b.kv_cache("past_key_value", 1, s.kv_lora + s.rope)
  cache.parameters.values = false
  cache.note = "MLA latent: kv_lora_rank + qk_rope_head_dim a token (transformers caches the expanded K and V)"
  local rotary = b.rotary(names.rotary, heads, 1, s.rope)
  rotary.name = names.rotary:match("[%w_]+$") -- the function's own name (V2's apply_rotary_emb)
  local sdpa = b.sdpa("scaled_dot_product_attention", heads, heads, s.qk, true)
  sdpa.parameters.v_head_dim = s.v
  return b.block("self_attn", names.module .. names.prefix .. "Attention", b.append(q, {
    b.linear("kv_a_proj_with_mqa", h, s.kv_lora + s.rope, s.attention_bias),
    norm("kv_a_layernorm", s.kv_lora),
    b.linear("kv_b_proj", s.kv_lora, heads * (s.nope + s.v), false),
    rotary,
    b.elementwise("cat_query", "torch.cat", heads * s.qk),
    b.elementwise("cat_key", "torch.cat", heads * s.qk),
    cache,
    sdpa,
    b.linear("o_proj", heads * s.v, h, s.attention_bias),
  }))
end

-- decoder(cfg, b, s, names, gate, combine) -> the causal LM: names as llama.decoder's (module,
-- prefix, norm, rotary); gate: the router's layers (a block or a list); combine: the layers
-- that weight and merge the experts' outputs
function deepseek_v2.decoder(cfg, b, s, names, gate, combine)
  local h, P = s.hidden, names.module .. names.prefix
  local act = b.activation_class(cfg, "hidden_act", "silu")
  local expert = qwen2_moe.gated_mlp(b, "experts", P .. "MLP", h, s.moe_inter, act, s.experts)
  expert["active"] = s.k
  local parts = b.append({ gate, expert }, combine)
  if s.shared_inter > 0 then
    b.append(parts, { qwen2_moe.gated_mlp(b, "shared_experts", P .. "MLP", h, s.shared_inter, act), b.add("shared_experts_add", h) })
  end
  local moe = b.block("mlp", P .. "MoE", parts)
  local dense = qwen2_moe.gated_mlp(b, "mlp", P .. "MLP", h, s.inter, act)
  local first = math.min(s.first_dense, s.layers)
  names.attention = deepseek_v2.attention(b, s, names)
  if first == 0 or first == s.layers then names.mlp = first == 0 and moe or dense
  else names.mlps = { { mlp = dense, count = first }, { mlp = moe, count = s.layers - first } } end
  return llama.decoder(cfg, b, s, names)
end

function deepseek_v2.build(cfg, b)
  local s = deepseek_v2.shape(cfg, { first_dense = 0, shared = 2 })
  local T, E, k = b.TOKENS, s.experts, s.k
  local routed = ("(%s) * %d"):format(T, k) -- (token, chosen expert) pairs
  local gate = {
    b.linear("router_logits", s.hidden, E, false), -- F.linear(x, gate.weight): the gate's weight
    b.elementwise("softmax", "torch.nn.modules.activation.Softmax", E),
  }
  if cfg:str("topk_method", "greedy", { "greedy", "group_limited_greedy" }) == "group_limited_greedy" then
    local groups = cfg:int("n_group")
    local per = cfg:divides("n_routed_experts", E, "n_group", groups)
    local keep = cfg:int("topk_group")
    if keep > groups then cfg:fail("topk_group", ("%d is more than n_group (%d)"):format(keep, groups)) end
    b.append(gate, { -- max(dim=-1) of each group: a top-1 of its experts
      b.layer("group_max", "torch.topk", { rows = ("(%s) * %d"):format(T, groups), width = per, k = 1 }),
      b.layer("group_topk", "torch.topk", { rows = T, width = groups, k = keep }),
    })
  end
  b.append(gate, {
    b.layer("topk", "torch.topk", { rows = T, width = E, k = k }),
    b.scale("routed_scaling_mul", k),
  })
  local combine = {
    b.layer("routing_weight_mul", "torch.mul", { numel = ("(%s) * %d"):format(routed, s.hidden), broadcast_numel = routed }),
    b.layer("expert_sum", "torch.sum", { rows = ("(%s) * %d"):format(T, s.hidden), width = k }),
  }
  return deepseek_v2.decoder(cfg, b, s, { module = M, prefix = "DeepseekV2", norm = M .. "DeepseekV2RMSNorm",
    rotary = M .. "apply_rotary_emb" }, b.block("gate", M .. "DeepseekV2MoEGate", gate), combine)
end

return deepseek_v2
