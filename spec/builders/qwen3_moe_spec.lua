-- The Qwen3-MoE builder (lua/lmp/builders/qwen3_moe.lua) on Qwen3-30B-A3B: Qwen3 attention
-- (per-head q/k norms) and a sparse block of 128 experts, 8 per token, top-k weights
-- renormalised (norm_topk_prob), no shared expert. Every expected figure is derived by hand.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "Qwen--Qwen3-30B-A3B.json"
local M = "transformers.models.qwen3_moe.modeling_qwen3_moe."

local function analyze(depth) return lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = depth }) end

describe("qwen3_moe builder", function ()
  it("counts Qwen3-30B-A3B exactly, all experts and the active ones", function ()
    -- hidden 2048, 32 heads and 4 KV heads of 128, 48 layers, 128 experts of 768, vocab 151936
    -- per layer: q, o 2 * 2048 * 4096 = 16,777,216; k, v 2 * 2048 * 512 = 2,097,152; q/k norms 256;
    --   gate 2048 * 128 = 262,144; one expert 3 * 2048 * 768 = 4,718,592; two norms 4,096
    --   all 128 experts: 19,136,768 + 603,979,776 + 4,096 = 623,120,640; x 48 = 29,909,790,720
    --   8 active:        19,136,768 +  37,748,736 + 4,096 =  56,889,600; x 48 =  2,730,700,800
    --   (19,136,768 = 16,777,216 + 2,097,152 + 256 + 262,144)
    -- embed_tokens and lm_head 2 * 151936 * 2048 = 622,329,856; norm 2,048
    -- total 30,532,122,624; active 3,353,032,704
    local r = analyze()
    assert.are.equal(30532122624, r.totals.params)
    assert.are.equal(3353032704, r.totals.active_params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("builds Qwen3MoeSparseMoeBlock with 128 experts, 8 active, and the top-k renormalised", function ()
    local layer = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2]
    local moe = layer.sub_layers[5]
    assert.are.equal(M .. "Qwen3MoeSparseMoeBlock", moe.class)
    local names = {}
    for _, l in ipairs(moe.sub_layers) do names[#names + 1] = l.name end
    assert.are.same({ "gate", "softmax", "topk", "routing_sum", "routing_div", "experts", "routing_weight_mul", "index_add" }, names)
    assert.are.equal(128, moe.sub_layers[6]["repeat"])
    assert.are.equal(8, moe.sub_layers[6].active)
    assert.are.equal(M .. "Qwen3MoeRMSNorm", layer.sub_layers[2].sub_layers[4].class) -- q_norm
  end)

  it("prices batch 1, seq 128 in closed form, 8 experts a token", function ()
    -- Linear weights a token goes through: 48 * (16,777,216 + 2,097,152 + 262,144 + 8 * 4,718,592)
    --   + lm_head 2048 * 151936 = 48 * 56,885,248 + 311,164,928 = 3,041,656,832; x 2 * 128 = 778,664,148,992
    -- attention: 4 * 48 * 32 * 128^3 = 12,884,901,888; rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 791,549,067,264
    assert.are.equal(791549067264, analyze().totals.matmul_flops)
  end)

  it("prices one decoder layer by hand", function ()
    -- 128 tokens: norms 2 * 128 * 2048 * 4 = 2,097,152; residual adds 2 * 128 * 2048 = 524,288
    -- self_attn: q, o 2 * 2 * 128 * 2048 * 4096 = 4,294,967,296; k, v 2 * 2 * 128 * 2048 * 512 = 536,870,912;
    --   q_norm 128 * 32 * 128 * 4 = 2,097,152; k_norm 128 * 4 * 128 * 4 = 262,144; rotary 3 * 128 * 128 * 36 = 1,769,472;
    --   sdpa 4 * 32 * 128^3 + 32 * 128^2 * 7 = 272,105,472 -> 5,108,072,448
    -- mlp: gate 2 * 128 * 2048 * 128 = 67,108,864; softmax 128 * 128 * 5 = 81,920; topk 128 * 128 * 8 = 131,072;
    --   sum 128 * 8 = 1,024; div 1,024; 8 experts * (3 * 2 * 128 * 2048 * 768 + silu 128 * 768 * 4 + mul 128 * 768)
    --   = 8 * 1,208,451,072 = 9,667,608,576; weight mul and index_add 2 * 128 * 8 * 2048 = 4,194,304
    --   -> 9,739,126,784
    -- total 14,849,820,672
    local layers = analyze(2):find("^model%.layers$")[1]
    assert.are.equal(14849820672 * 48, layers.flops)
  end)

  it("counts Qwen3-235B-A22B at keras-hub's published 235,093,634,560", function ()
    -- hidden 4096, 64 heads and 4 KV heads of 128, 94 layers, 128 experts of 1536
    -- per layer: q, o 2 * 4096 * 8192 = 67,108,864; k, v 2 * 4096 * 512 = 4,194,304; q/k norms 256;
    --   gate 4096 * 128 = 524,288; experts 128 * 3 * 4096 * 1536 = 2,415,919,104; norms 8,192
    --   -> 2,487,755,008; x 94 = 233,848,970,752
    -- embed_tokens and lm_head 2 * 151936 * 4096 = 1,244,659,712; norm 4,096 -> 235,093,634,560
    local big = edited(NAME, { hidden_size = 4096, num_hidden_layers = 94, num_attention_heads = 64,
                               moe_intermediate_size = 1536 })
    assert.are.equal(235093634560, lmp.analyze(h.build(big), AT_128).totals.params)
  end)

  it("refuses more experts per token than experts", function ()
    assert.error_matches(build_error(edited(NAME, { num_experts_per_tok = 129 })), "num_experts_per_tok: 129 is more than num_experts")
  end)
end)
