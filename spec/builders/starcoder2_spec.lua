-- The StarCoder2 builder (lua/lmp/builders/starcoder2.lua) on starcoder2-3b: biases on every
-- projection, LayerNorm with bias, a c_fc / GELU(tanh) / c_proj MLP, lm_head tied. Every
-- expected figure is derived by hand here.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "bigcode--starcoder2-3b.json"

local function analyze(depth) return lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = depth }) end

describe("starcoder2 builder", function ()
  it("counts starcoder2-3b exactly", function ()
    -- hidden 3072, 24 heads of 128, 2 KV heads (256), intermediate 12288, 30 layers, vocab 49152
    -- per layer: q, o 2 * (3072^2 + 3072) = 18,880,512; k, v 2 * (3072 * 256 + 256) = 1,573,376;
    --   c_fc 3072 * 12288 + 12288 = 37,761,024; c_proj 12288 * 3072 + 3072 = 37,751,808;
    --   two LayerNorms 2 * 2 * 3072 = 12,288 -> 95,979,008; x 30 = 2,879,370,240
    -- embed_tokens 49152 * 3072 = 150,994,944 (lm_head tied); norm (weight and bias) 6,144
    -- total 3,030,371,328 (the model card's "3.03B")
    local r = analyze()
    assert.are.equal(3030371328, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("unties lm_head when the config says so", function ()
    local r = lmp.analyze(h.build(edited(NAME, { tie_word_embeddings = false })), AT_128)
    -- 3,030,371,328 + 49152 * 3072 = 3,181,366,272
    assert.are.equal(3181366272, r.totals.params)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 30 * (2 * 3072^2 + 2 * 3072 * 256 + 2 * 3072 * 12288) + lm_head 3072 * 49152
    --   = 30 * 95,944,704 + 150,994,944 = 3,029,336,064; x 2 * 128 = 775,510,032,384
    -- attention: 4 * 30 * 24 * 128^3 = 6,039,797,760; rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 781,549,846,528
    assert.are.equal(781549846528, analyze().totals.matmul_flops)
  end)

  it("prices one decoder layer by hand", function ()
    -- 128 tokens: q, o 2 * (2 * 128 * 3072^2 + 128 * 3072) = 4,832,624,640;
    --   k, v 2 * (2 * 128 * 3072 * 256 + 128 * 256) = 402,718,720;
    --   rotary 3 * 128 * 128 * 26 = 1,277,952; sdpa 4 * 24 * 128^3 + 24 * 128^2 * 7 = 204,079,104;
    --   c_fc 2 * 128 * 3072 * 12288 + 128 * 12288 = 9,665,249,280; gelu_tanh 128 * 12288 * 9 = 14,155,776;
    --   c_proj 2 * 128 * 12288 * 3072 + 128 * 3072 = 9,664,069,632;
    --   two LayerNorms 2 * 128 * 3072 * (layernorm 5 + weight 1 + bias 1) = 5,505,024; residual adds 786,432
    -- total 24,790,466,560
    local layers = analyze(2):find("^model%.layers$")[1]
    assert.are.equal(24790466560 * 30, layers.flops)
  end)

  it("reads and caches at most the 4096-token window in decode", function ()
    -- one new token over 8191 cached: the cache holds min(8192, 4096) = 4096 tokens,
    --   2 (K, V) * 30 layers * 2 KV heads * 128 * 4096 * 2 B = 125,829,120
    -- matmul: the weights 2 * 3,029,336,064 = 6,058,672,128; attention over min(8191, 4095) + 1
    --   = 4096 keys: 4 * 30 layers * 24 heads * 4096 * 128 = 1,509,949,440; rotary_emb 1 * 128 -> 7,568,621,696
    local r = lmp.analyze(lmp.load_config(R .. NAME), { batch_size = 1, seq_len = 1, kv_len = 8191 })
    assert.are.equal(125829120, r.footprint.kv_cache)
    assert.are.equal(7568621696, r.totals.matmul_flops)
  end)

  it("refuses a use_bias that is not a boolean", function ()
    assert.error_matches(build_error(edited(NAME, { use_bias = 1 })), "use_bias: expected true or false")
  end)
end)
