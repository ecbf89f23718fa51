-- The DeepSeek-V3 builder (lua/lmp/builders/deepseek_v3.lua) on DeepSeek-V3: MLA attention (q LoRA
-- rank 1536, kv LoRA rank 512, nope 128 + rope 64 for q and k, values of 128), 3 dense layers then
-- 58 MoE layers of 256 routed experts (8 a token, grouped sigmoid routing) and 1 shared expert.
-- Every expected figure is derived by hand.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "deepseek-ai--DeepSeek-V3.json"
local M = "transformers.models.deepseek_v3.modeling_deepseek_v3."

local function analyze(model, depth) return lmp.analyze(model, AT_128, { depth = depth }) end
local function names_of(block)
  local out = {}
  for _, l in ipairs(block.sub_layers) do out[#out + 1] = l.name end
  return out
end

describe("deepseek_v3 builder", function ()
  it("counts DeepSeek-V3 exactly as transformers does (no MTP layer): 671B, 37B active", function ()
    -- hidden 7168, 128 heads, vocab 129280, 61 layers (3 dense, 58 MoE)
    -- self_attn: q_a_proj 7168 * 1536 = 11,010,048; q_a_layernorm 1536;
    --   q_b_proj 1536 * 128 * (128 + 64) = 37,748,736; kv_a_proj_with_mqa 7168 * (512 + 64) = 4,128,768;
    --   kv_a_layernorm 512; kv_b_proj 512 * 128 * (128 + 128) = 16,777,216; o_proj 128 * 128 * 7168 = 117,440,512
    --   -> 187,107,328; two norms 2 * 7168 = 14,336
    -- dense mlp 3 * 7168 * 18432 = 396,361,728; dense layer 583,483,392; x 3 = 1,750,450,176
    -- MoE: gate (router weight) 256 * 7168 = 1,835,008; one expert 3 * 7168 * 2048 = 44,040,192;
    --   256 experts 11,274,289,152; shared expert (2048 * 1) 44,040,192 -> 11,320,164,352
    --   (e_score_correction_bias is a buffer in transformers, not a parameter)
    --   MoE layer 187,107,328 + 14,336 + 11,320,164,352 = 11,507,286,016; x 58 = 667,422,588,928
    -- embed_tokens and lm_head 2 * 129280 * 7168 = 1,853,358,080; norm 7168
    -- total 1,750,450,176 + 667,422,588,928 + 1,853,358,080 + 7,168 = 671,026,404,352 ("671B total")
    -- active: MoE layer with 8 experts 187,121,664 + 1,835,008 + 8 * 44,040,192 + 44,040,192 = 585,318,400;
    --   x 58 = 33,948,467,200; + 1,750,450,176 + 1,853,358,080 + 7,168 = 37,552,282,624 ("37B activated")
    -- The Hub's 685B adds the multi-token-prediction module (checkpoint layer 61, which
    -- transformers drops on load): enorm and hnorm 2 * 7168, eh_proj 2 * 7168 * 7168 = 102,760,448,
    -- one MoE decoder layer 11,507,286,016, shared_head's norm 7168 and head 926,679,040 and its own copy of
    -- embed_tokens 926,679,040 -> 13,463,426,048 ("14B of the MTP module"); 671,026,404,352 + 13,463,426,048
    -- = 684,489,830,400 (the Hub's total also counts the FP8 checkpoint's weight_scale_inv tensors).
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(671026404352, r.totals.params)
    assert.are.equal(37552282624, r.totals.active_params)
    assert.are.equal(671, r.totals.params // 10^9)
    assert.are.equal(37, r.totals.active_params // 10^9)
    assert.are.same({}, r.unknown_modules)
  end)

  it("builds MLA, 3 dense layers, then the MoE with its TopkRouter and shared experts", function ()
    local model = lmp.build(lmp.read_config(R .. NAME)).layers[1]
    local dense, sparse = model.sub_layers[2], model.sub_layers[3]
    assert.are.same({ "layers.0", 3, "layers.3", 58 }, { dense.name, dense["repeat"], sparse.name, sparse["repeat"] })
    assert.are.equal(M .. "DeepseekV3MLP", dense.sub_layers[5].class)
    local attn = sparse.sub_layers[2]
    assert.are.equal(M .. "DeepseekV3Attention", attn.class)
    assert.are.same({ "q_a_proj", "q_a_layernorm", "q_b_proj", "kv_a_proj_with_mqa", "kv_a_layernorm", "kv_b_proj",
                      "apply_rotary_pos_emb_interleave", "cat_query", "cat_key", "past_key_value", "scaled_dot_product_attention",
                      "o_proj" }, names_of(attn))
    -- rope_interleave is left out of the config: DeepseekV3Config's default, true
    assert.are.equal(M .. "apply_rotary_pos_emb_interleave", attn.sub_layers[7].class)
    assert.are.same({ 128, 1, 64 }, { attn.sub_layers[7].parameters.num_heads, attn.sub_layers[7].parameters.num_kv_heads,
                                      attn.sub_layers[7].parameters.head_dim })
    local sdpa = attn.sub_layers[11].parameters
    assert.are.same({ 128, 192, 128 }, { sdpa.num_kv_heads, sdpa.head_dim, sdpa.v_head_dim })
    local moe = sparse.sub_layers[5]
    assert.are.equal(M .. "DeepseekV3MoE", moe.class)
    assert.are.same({ "gate", "experts", "routing_weight_mul", "index_add", "shared_experts", "shared_experts_add" },
                    names_of(moe))
    assert.are.equal(M .. "DeepseekV3TopkRouter", moe.sub_layers[1].class)
    assert.are.same({ "router_logits", "sigmoid", "e_score_correction_bias_add", "group_top2", "group_sum", "group_topk",
                      "topk", "routing_sum", "denominator_add", "routing_div", "routed_scaling_mul" }, names_of(moe.sub_layers[1]))
    assert.are.same({ 256, 8 }, { moe.sub_layers[2]["repeat"], moe.sub_layers[2].active })
  end)

  it("prices the MLA attention and one MoE decoder layer by hand", function ()
    -- 128 tokens, batch 1. self_attn:
    --   q_a_proj 2 * 128 * 7168 * 1536 = 2,818,572,288; q_a_layernorm 128 * 1536 * (rmsnorm 3 + weight 1) = 786,432
    --   q_b_proj 2 * 128 * 1536 * 24576 = 9,663,676,416; kv_a_proj_with_mqa 2 * 128 * 7168 * 576 = 1,056,964,608
    --   kv_a_layernorm 128 * 512 * 4 = 262,144; kv_b_proj 2 * 128 * 512 * 32768 = 4,294,967,296
    --   rotary over the 64 rope values of 128 q heads and 1 k head: 3 * 128 * 64 * 129 = 3,170,304; the cats 0
    --   sdpa: Q K^T over 192 and P V over 128: 2 * 128 * 128 * 128 * (192 + 128) = 1,342,177,280;
    --     scale, mask and softmax 128 * 128 * 128 * 7 = 14,680,064 -> 1,356,857,344
    --   o_proj 2 * 128 * 16384 * 7168 = 30,064,771,072 -> 49,260,027,904
    -- mlp (DeepseekV3MoE):
    --   gate: router_logits 2 * 128 * 7168 * 256 = 469,762,048; sigmoid 128 * 256 * 3 = 98,304; bias add 32,768;
    --     group top-2 of 8 groups of 32: 128 * 256 * 2 = 65,536; group sums 128 * 8 * 2 = 2,048;
    --     top 4 groups 128 * 8 * 4 = 4,096; top 8 experts 128 * 256 * 8 = 262,144;
    --     norm_topk_prob: sum 1,024, + 1e-20 128, divide 1,024; routed_scaling_factor 1,024 -> 470,230,144
    --   one (token, expert): 3 * 2 * 7168 * 2048 + silu 2048 * 4 + mul 2048 = 88,090,624;
    --     128 * 8 of them 90,204,798,976; weight mul and index_add 2 * 128 * 8 * 7168 = 14,680,064
    --   shared expert 128 * 88,090,624 = 11,275,599,872; its add 128 * 7168 = 917,504 -> 101,966,226,560
    -- two norms 2 * 128 * 7168 * 4 = 7,340,032; two residual adds 2 * 128 * 7168 = 1,835,008
    -- layer: 49,260,027,904 + 101,966,226,560 + 7,340,032 + 1,835,008 = 151,235,429,504
    local r = analyze(lmp.load_config(R .. NAME), 3)
    assert.are.equal(49260027904, r:find("^model%.layers%.3%.self_attn$")[1].flops)
    assert.are.equal(151235429504 * 58, r:find("^model%.layers%.3$")[1].flops)
  end)

  it("caches the compressed latent and rope key, not the expanded K and V", function ()
    -- decode after 4095 tokens: 61 layers * 4096 tokens * (512 + 64) * 2 bytes = 287,834,112
    -- (transformers' expanded cache would hold 61 * 4096 * 128 * (192 + 128) * 2 = 20,468,203,520, 71.1x)
    local r = lmp.analyze(lmp.load_config(R .. NAME), { batch_size = 1, seq_len = 1, kv_len = 4095 })
    assert.are.equal(61 * 4096 * 576 * 2, r.footprint.kv_cache)
  end)

  it("follows norm_topk_prob and rope_interleave", function ()
    local attn_moe = lmp.build(edited(NAME, { norm_topk_prob = false, rope_interleave = false })).layers[1].sub_layers[3]
    assert.are.equal(M .. "apply_rotary_pos_emb", attn_moe.sub_layers[2].sub_layers[7].class)
    assert.are.same({ "router_logits", "sigmoid", "e_score_correction_bias_add", "group_top2", "group_sum", "group_topk",
                      "topk", "routed_scaling_mul" }, names_of(attn_moe.sub_layers[5].sub_layers[1]))
  end)

  it("takes DeepseekV3Config's defaults for the structural fields left out (the released values)", function ()
    -- first_k_dense_replace 3, n_shared_experts 1, n_group 8, topk_group 4, norm_topk_prob true,
    -- rope_interleave true, q_lora_rank 1536: the same model, count and layer FLOPs as above
    local cfg = edited(NAME, { first_k_dense_replace = h.REMOVE, n_shared_experts = h.REMOVE, n_group = h.REMOVE,
                               topk_group = h.REMOVE, norm_topk_prob = h.REMOVE, q_lora_rank = h.REMOVE })
    local r = analyze(h.build(cfg), 3)
    assert.are.equal(671026404352, r.totals.params)
    assert.are.equal(151235429504 * 58, r:find("^model%.layers%.3$")[1].flops)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("groups that do not divide the experts", function ()
      assert.error_matches(build_error(edited(NAME, { n_group = 7 })), "n_routed_experts: 256 is not a multiple of n_group")
    end)
    it("more groups kept than there are", function ()
      assert.error_matches(build_error(edited(NAME, { topk_group = 9 })), "topk_group: 9 is more than n_group")
    end)
    it("a missing latent rank", function ()
      assert.error_matches(build_error(edited(NAME, { kv_lora_rank = h.REMOVE })), "kv_lora_rank: missing")
    end)
    it("a moe_layer_freq transformers does not build", function ()
      assert.error_matches(build_error(edited(NAME, { moe_layer_freq = 2 })), "moe_layer_freq: only 1 is modelled")
    end)
  end)
end)
