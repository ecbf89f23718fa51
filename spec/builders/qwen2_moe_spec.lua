-- The Qwen2-MoE builder (lua/lmp/builders/qwen2_moe.lua) on Qwen1.5-MoE-A2.7B: Qwen2 attention
-- (q/k/v biases), 60 experts of 1408 with 4 per token (weights not renormalised), a shared
-- expert of 5632 gated by sigmoid(shared_expert_gate). Every expected figure is derived by hand.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "Qwen--Qwen1.5-MoE-A2.7B.json"
local M = "transformers.models.qwen2_moe.modeling_qwen2_moe."

local function analyze(model, depth) return lmp.analyze(model, AT_128, { depth = depth }) end

describe("qwen2_moe builder", function ()
  it("counts Qwen1.5-MoE-A2.7B exactly, all experts and the active ones", function ()
    -- hidden 2048, 16 heads of 128, 24 layers, vocab 151936
    -- per layer: q, k, v 3 * (2048^2 + 2048) = 12,589,056; o 2048^2 = 4,194,304;
    --   gate 2048 * 60 = 122,880; one expert 3 * 2048 * 1408 = 8,650,752;
    --   shared expert 3 * 2048 * 5632 = 34,603,008; shared_expert_gate 2048; two norms 4,096
    --   the rest of a layer: 12,589,056 + 4,194,304 + 122,880 + 34,603,008 + 2,048 + 4,096 = 51,515,392
    --   all 60 experts: 51,515,392 + 519,045,120 = 570,560,512; x 24 = 13,693,452,288
    --   4 active:       51,515,392 +  34,603,008 =  86,118,400; x 24 =  2,066,841,600
    -- embed_tokens and lm_head 2 * 151936 * 2048 = 622,329,856; norm 2,048
    -- total 14,315,784,192; active 2,689,173,504 (the card's "2.7B activated")
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(14315784192, r.totals.params)
    assert.are.equal(2689173504, r.totals.active_params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("builds the shared expert and its sigmoid gate beside the routed experts", function ()
    local moe = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2].sub_layers[5]
    assert.are.equal(M .. "Qwen2MoeSparseMoeBlock", moe.class)
    local names = {}
    for _, l in ipairs(moe.sub_layers) do names[#names + 1] = l.name end
    -- norm_topk_prob false: no routing_sum / routing_div
    assert.are.same({ "gate", "softmax", "topk", "experts", "routing_weight_mul", "index_add",
                      "shared_expert", "shared_expert_gate", "sigmoid", "shared_expert_mul", "shared_expert_add" }, names)
    assert.are.equal(M .. "Qwen2MoeMLP", moe.sub_layers[7].class)
    assert.are.equal("torch.nn.modules.activation.Sigmoid", moe.sub_layers[9].class)
    assert.are.same({ 60, 4 }, { moe.sub_layers[4]["repeat"], moe.sub_layers[4].active })
  end)

  it("prices batch 1, seq 128 in closed form, 4 experts and the shared one a token", function ()
    -- Linear weights a token goes through: 24 * (4 * 2048^2 + 122,880 + 4 * 8,650,752 + 34,603,008 + 2048)
    --   + lm_head 2048 * 151936 = 24 * 86,108,160 + 311,164,928 = 2,377,760,768; x 2 * 128 = 608,706,756,608
    -- attention: 4 * 24 * 16 * 128^3 = 3,221,225,472; rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 611,927,998,464
    assert.are.equal(611927998464, analyze(lmp.load_config(R .. NAME)).totals.matmul_flops)
  end)

  it("prices one decoder layer by hand", function ()
    -- 128 tokens: norms 2 * 128 * 2048 * 4 = 2,097,152; residual adds 2 * 128 * 2048 = 524,288
    -- self_attn: q, k, v 3 * (2 * 128 * 2048^2 + 128 * 2048) = 3,222,011,904; o 1,073,741,824;
    --   rotary 3 * 128 * 128 * 32 = 1,572,864; sdpa 4 * 16 * 128^3 + 16 * 128^2 * 7 = 136,052,736
    --   -> 4,433,379,328
    -- mlp: gate 2 * 128 * 2048 * 60 = 31,457,280; softmax 128 * 60 * 5 = 38,400; topk 128 * 60 * 4 = 30,720;
    --   4 experts * (3 * 2 * 128 * 2048 * 1408 + silu 128 * 1408 * 4 + mul 128 * 1408) = 4 * 2,215,493,632
    --   = 8,861,974,528; weight mul and index_add 2 * 128 * 4 * 2048 = 2,097,152;
    --   shared expert 3 * 2 * 128 * 2048 * 5632 + 128 * 5632 * 5 = 8,861,974,528; its gate 2 * 128 * 2048 = 524,288;
    --   sigmoid 128 * 3 = 384; gate mul and add 2 * 128 * 2048 = 524,288 -> 17,758,621,568
    -- total 22,194,622,336
    local layers = analyze(lmp.load_config(R .. NAME), 2):find("^model%.layers$")[1]
    assert.are.equal(22194622336 * 24, layers.flops)
  end)

  it("keeps a dense Qwen2MoeMLP in mlp_only_layers and off the decoder_sparse_step", function ()
    -- 24 layers, step 2: layers 1, 3, 5, ... are sparse; 0 is also dense, and mlp_only_layers = [3]
    local model = lmp.build(edited(NAME, { decoder_sparse_step = 2, mlp_only_layers = { 3 } }))
    local runs = {}
    for _, l in ipairs(model.layers[1].sub_layers) do
      if l.class == M .. "Qwen2MoeDecoderLayer" then
        runs[#runs + 1] = ("%s %s x%d"):format(l.name, l.sub_layers[5].class:match("%.([%w]+)$"), l["repeat"] or 1)
      end
    end
    assert.are.same({ "layers.0 Qwen2MoeMLP x1", "layers.1 Qwen2MoeSparseMoeBlock x1", "layers.2 Qwen2MoeMLP x3",
                      "layers.5 Qwen2MoeSparseMoeBlock x1", "layers.6 Qwen2MoeMLP x1" }, { table.unpack(runs, 1, 5) })
    assert.are.equal(22, #runs) -- 0 | 1 | 2-4 | 5, then 6 to 23 one run each: 4 + 18 = 22
    -- parameters: 11 sparse layers (1, 5, 7, ..., 23) and 13 dense ones (intermediate 5632):
    --   dense layer 16,783,360 + 3 * 2048 * 5632 + 4,096 = 51,390,464; sparse 570,560,512
    --   11 * 570,560,512 + 13 * 51,390,464 + 622,331,904 = 6,276,165,632 + 668,076,032 + 622,331,904 = 7,566,573,568
    local r = analyze(h.build(edited(NAME, { decoder_sparse_step = 2, mlp_only_layers = { 3 } })))
    assert.are.equal(7566573568, r.totals.params)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing expert size", function ()
      assert.error_matches(build_error(edited(NAME, { moe_intermediate_size = h.REMOVE })), "moe_intermediate_size: missing")
    end)
    it("mlp_only_layers that are not layer indices", function ()
      assert.error_matches(build_error(edited(NAME, { mlp_only_layers = { "a" } })), "mlp_only_layers: entry 1 is not a layer index")
    end)
  end)
end)
