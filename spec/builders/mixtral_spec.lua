-- The Mixtral builder (lua/lmp/builders/mixtral.lua) on Mixtral-8x7B-v0.1: Llama-shaped attention,
-- block_sparse_moe with 8 experts of which 2 run per token ("active": 2).
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model) return lmp.analyze(model, AT_128) end
local edited = h.edited_config
local build_error = h.build_error

local NAME = "mistralai--Mixtral-8x7B-v0.1.json"

describe("mixtral builder", function ()
  it("counts Mixtral-8x7B-v0.1 exactly, all experts and the active ones", function ()
    -- per layer: attention q, o 2 * 4096^2 + k, v 2 * 4096 * 1024 = 41,943,040;
    --   gate 4096 * 8 = 32,768; one expert w1, w3, w2 3 * 4096 * 14336 = 176,160,768;
    --   two MixtralRMSNorm 8,192
    --   all 8 experts: 41,943,040 + 32,768 + 1,409,286,144 + 8,192 = 1,451,270,144; x 32 = 46,440,644,608
    --   2 active:      41,943,040 + 32,768 +   352,321,536 + 8,192 =   394,305,536; x 32 = 12,617,777,152
    -- embed_tokens and lm_head 2 * 32000 * 4096 = 262,144,000; norm 4,096
    -- total 46,702,792,704; active 12,879,925,248
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(46702792704, r.totals.params)
    assert.are.equal(12879925248, r.totals.active_params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("marks the experts block with repeat 8 and active 2", function ()
    local moe = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2].sub_layers[5]
    assert.are.equal("transformers.models.mixtral.modeling_mixtral.MixtralSparseMoeBlock", moe.class)
    local experts = moe.sub_layers[6]
    assert.are.equal("transformers.models.mixtral.modeling_mixtral.MixtralBlockSparseTop2MLP", experts.class)
    assert.are.equal(8, experts["repeat"])
    assert.are.equal(2, experts.active)
  end)

  it("prices batch 1, seq 128 in closed form, two experts a token", function ()
    -- Linear weights a token goes through: 32 * (41,943,040 + 32,768 + 2 * 176,160,768) + lm_head
    --   4096 * 32000 = 32 * 394,297,344 + 131,072,000 = 12,748,587,008; x 2 * 128 = 3,263,638,274,048
    -- attention: 4 * 32 layers * 32 heads * 128 * 128 * 128 = 8,589,934,592
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 3,272,228,225,024
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(3272228225024, r.totals.matmul_flops)
  end)

  it("reads the weights of only the 2 chosen experts for one decode token", function ()
    -- at 2 bytes a weight, per layer: attention 41,943,040 * 2 = 83,886,080; norms 2 * 8,192;
    --   gate 65,536; 2 experts 2 * 176,160,768 * 2 = 704,643,072 -> 788,611,072; x 32 = 25,235,554,304
    -- the gathered embedding row 4096 * 2 = 8,192; norm 8,192; lm_head 262,144,000
    -- total 25,497,714,688
    local r = lmp.analyze(lmp.load_config(R .. NAME), { batch_size = 1, seq_len = 1, kv_len = 127 })
    assert.are.equal(25497714688, r.totals.weight_bytes)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { num_local_experts = REMOVE })), "num_local_experts: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { num_experts_per_tok = true })), "num_experts_per_tok: expected an integer")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited(NAME, { intermediate_size = 1 << 40 })), "intermediate_size: .* is beyond")
    end)
    it("more experts per token than experts", function ()
      assert.error_matches(build_error(edited(NAME, { num_experts_per_tok = 9 })), "num_experts_per_tok: 9 is more than num_local_experts")
    end)
  end)

  it("caches every token (sliding_window null), or at most the window when a config sets one", function ()
    -- K and V of 8 heads of 128 in 32 layers at 2 bytes: 131,072 bytes a token
    local function cache(model) return lmp.analyze(model, { batch_size = 1, seq_len = 1, kv_len = 9999 }).footprint.kv_cache end
    assert.are.equal(131072 * 10000, cache((lmp.load_config(R .. NAME))))
    assert.are.equal(131072 * 4096, cache(h.build(edited(NAME, { sliding_window = 4096 }))))
  end)

  it("bundles models/mixtral-8x7b-v0.1.json with the published counts", function ()
    local r = analyze(lmp.load_model("models/mixtral-8x7b-v0.1.json"))
    assert.are.equal(46702792704, r.totals.params)
    assert.are.equal(12879925248, r.totals.active_params)
  end)
end)
