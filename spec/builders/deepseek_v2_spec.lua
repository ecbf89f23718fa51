-- The DeepSeek-V2 builder (lua/lmp/builders/deepseek_v2.lua) on DeepSeek-V2-Lite: MLA attention
-- without a q LoRA (q_lora_rank null: one q_proj), kv LoRA rank 512, 1 dense layer then 26 MoE
-- layers of 64 routed experts (6 a token, greedy softmax routing) and 2 shared experts.
-- Every expected figure is derived by hand.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "deepseek-ai--DeepSeek-V2-Lite.json"
local M = "transformers.models.deepseek_v2.modeling_deepseek_v2."

local function analyze(model, depth) return lmp.analyze(model, AT_128, { depth = depth }) end
local function names_of(block)
  local out = {}
  for _, l in ipairs(block.sub_layers) do out[#out + 1] = l.name end
  return out
end

describe("deepseek_v2 builder", function ()
  it("counts DeepSeek-V2-Lite exactly: 15.7B total, 2.4B active", function ()
    -- hidden 2048, 16 heads, vocab 102400, 27 layers (1 dense, 26 MoE)
    -- self_attn: q_proj 2048 * 16 * (128 + 64) = 6,291,456; kv_a_proj_with_mqa 2048 * (512 + 64) = 1,179,648;
    --   kv_a_layernorm 512; kv_b_proj 512 * 16 * (128 + 128) = 2,097,152; o_proj 16 * 128 * 2048 = 4,194,304
    --   -> 13,763,072; two norms 4,096
    -- layer 0: mlp 3 * 2048 * 10944 = 67,239,936 -> 81,007,104
    -- MoE: gate weight 64 * 2048 = 131,072; one expert 3 * 2048 * 1408 = 8,650,752; 64 of them 553,648,128;
    --   shared experts (1408 * 2) 3 * 2048 * 2816 = 17,301,504 -> 571,080,704
    --   MoE layer 13,767,168 + 571,080,704 = 584,847,872; x 26 = 15,206,044,672
    -- embed_tokens and lm_head 2 * 102400 * 2048 = 419,430,400; norm 2048
    -- total 81,007,104 + 15,206,044,672 + 419,430,400 + 2,048 = 15,706,484,224 (the card's "15.7B")
    -- active: MoE layer 13,767,168 + 131,072 + 6 * 8,650,752 + 17,301,504 = 83,104,256; x 26 = 2,160,710,656
    --   + 81,007,104 + 419,430,400 + 2,048 = 2,661,150,208; the card's "2.4B activated" leaves out the
    --   embedding lookup: 2,661,150,208 - 209,715,200 = 2,451,435,008
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(15706484224, r.totals.params)
    assert.are.equal(2661150208, r.totals.active_params)
    assert.are.equal(157, r.totals.params // 10^8)
    assert.are.equal(24, (r.totals.active_params - 102400 * 2048) // 10^8)
    assert.are.same({}, r.unknown_modules)
  end)

  it("builds q_proj without a q LoRA, a dense layer 0 and the MoE with its gate and shared experts", function ()
    local model = lmp.build(lmp.read_config(R .. NAME)).layers[1]
    local dense, sparse = model.sub_layers[2], model.sub_layers[3]
    assert.are.same({ "layers.0", "layers.1", 26 }, { dense.name, sparse.name, sparse["repeat"] })
    assert.are.equal(M .. "DeepseekV2MLP", dense.sub_layers[5].class)
    local attn = sparse.sub_layers[2]
    assert.are.same({ "q_proj", "kv_a_proj_with_mqa", "kv_a_layernorm", "kv_b_proj", "apply_rotary_emb", "cat_query",
                      "cat_key", "past_key_value", "scaled_dot_product_attention", "o_proj" }, names_of(attn))
    assert.are.equal(M .. "apply_rotary_emb", attn.sub_layers[5].class)
    local moe = sparse.sub_layers[5]
    assert.are.equal(M .. "DeepseekV2MoE", moe.class)
    assert.are.same({ "gate", "experts", "routing_weight_mul", "expert_sum", "shared_experts", "shared_experts_add" },
                    names_of(moe))
    assert.are.equal(M .. "DeepseekV2MoEGate", moe.sub_layers[1].class)
    -- topk_method greedy; norm_topk_prob is not applied by transformers' V2 gate
    assert.are.same({ "router_logits", "softmax", "topk", "routed_scaling_mul" }, names_of(moe.sub_layers[1]))
    assert.are.same({ 64, 6 }, { moe.sub_layers[2]["repeat"], moe.sub_layers[2].active })
  end)

  it("prices one MoE decoder layer and the whole model by hand", function ()
    -- 128 tokens, batch 1. self_attn: q_proj 2 * 128 * 2048 * 3072 = 1,610,612,736;
    --   kv_a_proj_with_mqa 2 * 128 * 2048 * 576 = 301,989,888; kv_a_layernorm 128 * 512 * 4 = 262,144;
    --   kv_b_proj 2 * 128 * 512 * 4096 = 536,870,912; rotary 3 * 128 * 64 * (16 + 1) = 417,792;
    --   sdpa 2 * 16 * 128 * 128 * (192 + 128) + 16 * 128 * 128 * 7 = 169,607,168;
    --   o_proj 2 * 128 * 2048 * 2048 = 1,073,741,824 -> 3,693,502,464
    -- mlp: gate 2 * 128 * 2048 * 64 = 33,554,432, softmax 128 * 64 * 5 = 40,960, top-6 128 * 64 * 6 = 49,152,
    --   routed_scaling_factor 128 * 6 = 768 -> 33,645,312
    --   one (token, expert) 3 * 2 * 2048 * 1408 + silu 1408 * 4 + mul 1408 = 17,308,544; x 128 * 6 = 13,292,961,792
    --   weight mul 128 * 6 * 2048 = 1,572,864; sum over the 6: 128 * 2048 * 6 = 1,572,864
    --   shared experts 3 * 2 * 128 * 2048 * 2816 + 128 * 2816 * 5 = 4,430,987,264; add 262,144
    --   -> 17,761,002,240
    -- norms 2 * 128 * 2048 * 4 = 2,097,152; residual adds 524,288 -> layer 21,457,126,144
    -- layer 0: 3,693,502,464 + 2,621,440 + 3 * 2 * 128 * 2048 * 10944 + 128 * 10944 * 5 = 20,916,551,680
    -- model: 20,916,551,680 + 26 * 21,457,126,144 + norm 1,048,576 + lm_head 2 * 128 * 2048 * 102400
    --   (53,687,091,200) = 632,489,971,200, + the model's rotary_emb once a forward over the 64 rope dims:
    --   inv_freq @ position_ids 2 * 1 * 32 * 1 * 128 = 8,192, cos, sin and two scalings 4 * 128 * 64 = 32,768
    local rotary_table = 8192 + 32768
    local r = analyze(lmp.load_config(R .. NAME), 2)
    assert.are.equal(21457126144 * 26, r:find("^model%.layers%.1$")[1].flops)
    assert.are.equal(632489971200 + rotary_table, r.totals.flops)
  end)

  it("prices group_limited_greedy's two extra top-k (DeepSeek-V2's routing)", function ()
    -- 8 groups of 8 experts, 3 kept: each group's max 128 * 64 * 1 = 8,192; top 3 of 8 128 * 8 * 3 = 3,072
    local edit = { topk_method = "group_limited_greedy", n_group = 8, topk_group = 3 }
    local gate = lmp.build(edited(NAME, edit)).layers[1].sub_layers[3].sub_layers[5].sub_layers[1]
    assert.are.same({ "router_logits", "softmax", "group_max", "group_topk", "topk", "routed_scaling_mul" }, names_of(gate))
    local r = analyze(h.build(edited(NAME, edit)), 2)
    assert.are.equal((21457126144 + 8192 + 3072) * 26, r:find("^model%.layers%.1$")[1].flops)
  end)

  it("caches the latent: 27 layers x (512 + 64) values a token", function ()
    -- 128 tokens: 27 * 128 * 576 * 2 bytes = 3,981,312 (transformers' expanded K and V:
    -- 27 * 128 * 16 * (192 + 128) * 2 = 35,389,440)
    assert.are.equal(3981312, analyze(lmp.load_config(R .. NAME)).footprint.kv_cache)
  end)

  it("builds the q LoRA when q_lora_rank is set (DeepSeek-V2's 1536)", function ()
    -- q_proj 6,291,456 a layer replaced by q_a_proj 2048 * 1536 + q_a_layernorm 1536 + q_b_proj 1536 * 3072
    --   = 3,145,728 + 1,536 + 4,718,592 = 7,865,856: 27 * (7,865,856 - 6,291,456) = 42,508,800 more
    local r = analyze(h.build(edited(NAME, { q_lora_rank = 1536 })))
    assert.are.equal(15706484224 + 42508800, r.totals.params)
    -- left out (not null), q_lora_rank is DeepseekV2Config's default, 1536
    assert.are.equal(15706484224 + 42508800, analyze(h.build(edited(NAME, { q_lora_rank = h.REMOVE }))).totals.params)
  end)

  it("takes DeepseekV2Config's defaults for the structural fields left out, and null shared experts as none", function ()
    -- first_k_dense_replace 0: all 27 layers MoE, layer 0's dense 81,007,104 replaced by 584,847,872: +503,840,768;
    -- n_shared_experts left out: 2 (as the config); null: no shared experts, 26 * 17,301,504 = 449,839,104 fewer
    local function params(edits) return analyze(h.build(edited(NAME, edits))).totals.params end
    assert.are.equal(15706484224 + 503840768, params({ first_k_dense_replace = h.REMOVE }))
    assert.are.equal(15706484224, params({ n_shared_experts = h.REMOVE, topk_method = h.REMOVE }))
    assert.are.equal(15706484224 - 449839104, params({ n_shared_experts = lmp.null }))
  end)

  describe("refuses bad configs, naming the field", function ()
    it("an unknown topk_method", function ()
      assert.error_matches(build_error(edited(NAME, { topk_method = "noaux_tc" })),
        'topk_method: "noaux_tc" is not supported %(supported: greedy, group_limited_greedy%)')
    end)
    it("more experts a token than there are", function ()
      assert.error_matches(build_error(edited(NAME, { num_experts_per_tok = 65 })), "num_experts_per_tok: 65 is more than n_routed_experts")
    end)
    it("a missing value head size", function ()
      assert.error_matches(build_error(edited(NAME, { v_head_dim = h.REMOVE })), "v_head_dim: missing")
    end)
  end)
end)
