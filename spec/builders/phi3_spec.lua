-- The Phi-3 builder (lua/lmp/builders/phi3.lua) on Phi-3-mini-4k-instruct: fused qkv_proj and
-- gate_up_proj, no biases, untied lm_head. Every expected figure is derived by hand here.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "microsoft--Phi-3-mini-4k-instruct.json"
local M = "transformers.models.phi3.modeling_phi3."

local function analyze(depth) return lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = depth }) end

describe("phi3 builder", function ()
  it("counts Phi-3-mini-4k-instruct exactly", function ()
    -- hidden 3072, 32 heads of 96 (no GQA), intermediate 8192, 32 layers, vocab 32064
    -- per layer: qkv_proj 3072 * (32 + 2 * 32) * 96 = 28,311,552; o_proj 3072^2 = 9,437,184;
    --   gate_up_proj 3072 * 2 * 8192 = 50,331,648; down_proj 8192 * 3072 = 25,165,824;
    --   two Phi3RMSNorm 6,144 -> 113,252,352; x 32 = 3,624,075,264
    -- embed_tokens and lm_head 2 * 32064 * 3072 = 197,001,216; norm 3,072
    -- total 3,821,079,552
    local r = analyze()
    assert.are.equal(3821079552, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts Phi-4-mini and Phi-4 (model_type phi3) at the Hub's published counts", function ()
    -- Phi-4-mini: hidden 3072, 24 heads and 8 KV heads of 128, intermediate 8192, 32 layers,
    --   vocab 200064, tied, partial_rotary_factor 0.75
    --   per layer: qkv_proj 3072 * (24 + 16) * 128 = 15,728,640; o_proj 3072^2 = 9,437,184;
    --   gate_up 50,331,648; down 25,165,824; norms 6,144 -> 100,669,440; x 32 = 3,221,422,080
    --   embed_tokens 200064 * 3072 = 614,596,608; norm 3,072 -> 3,836,021,760
    local mini = { num_attention_heads = 24, num_key_value_heads = 8, vocab_size = 200064,
                   tie_word_embeddings = true, partial_rotary_factor = 0.75 }
    assert.are.equal(3836021760, lmp.analyze(h.build(edited(NAME, mini)), AT_128).totals.params)
    -- Phi-4: hidden 5120, 40 heads and 10 KV heads of 128, intermediate 17920, 40 layers,
    --   vocab 100352, untied
    --   per layer: qkv_proj 5120 * 60 * 128 = 39,321,600; o_proj 5120^2 = 26,214,400;
    --   gate_up 5120 * 35840 = 183,500,800; down 17920 * 5120 = 91,750,400; norms 10,240
    --   -> 340,797,440; x 40 = 13,631,897,600
    --   embed_tokens and lm_head 2 * 100352 * 5120 = 1,027,604,480; norm 5,120 -> 14,659,507,200
    local phi4 = { hidden_size = 5120, intermediate_size = 17920, num_hidden_layers = 40, num_attention_heads = 40,
                   num_key_value_heads = 10, vocab_size = 100352 }
    assert.are.equal(14659507200, lmp.analyze(h.build(edited(NAME, phi4)), AT_128).totals.params)
  end)

  it("fuses q, k, v into qkv_proj and gate, up into gate_up_proj", function ()
    local layer = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2]
    local attn, mlp = layer.sub_layers[2], layer.sub_layers[6]
    assert.are.same({ M .. "Phi3Attention", "qkv_proj", 9216 },
      { attn.class, attn.sub_layers[1].name, attn.sub_layers[1].parameters.out_features })
    assert.are.same({ M .. "Phi3MLP", "gate_up_proj", 16384 },
      { mlp.class, mlp.sub_layers[1].name, mlp.sub_layers[1].parameters.out_features })
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 32 * 113,246,208 + lm_head 3072 * 32064 = 3,623,878,656 + 98,500,608
    --   = 3,722,379,264; x 2 * 128 = 952,929,091,584
    -- attention: 4 * 32 * 32 * 128 * 128 * 96 = 6,442,450,944; rotary_emb's inv_freq @ position_ids, once a forward: 128 * 96 = 12,288
    -- total 959,371,554,816
    assert.are.equal(959371554816, analyze().totals.matmul_flops)
  end)

  it("prices one decoder layer by hand", function ()
    -- 128 tokens: qkv_proj 2 * 128 * 3072 * 9216 = 7,247,757,312; o_proj 2 * 128 * 3072^2 = 2,415,919,104;
    --   rotary 3 * 128 * 96 * 64 = 2,359,296; sdpa 4 * 32 * 128^2 * 96 + 32 * 128^2 * 7 = 204,996,608;
    --   gate_up_proj 2 * 128 * 3072 * 16384 = 12,884,901,888; silu and mul 128 * 8192 * 5 = 5,242,880;
    --   down_proj 2 * 128 * 8192 * 3072 = 6,442,450,944; norms 2 * 128 * 3072 * 4 = 3,145,728;
    --   the resid dropouts 0 (inference); residual adds 2 * 128 * 3072 = 786,432
    -- total 29,207,560,192
    local layers = analyze(2):find("^model%.layers$")[1]
    assert.are.equal(29207560192 * 32, layers.flops)
  end)

  it("turns only the rotary part of each head (Phi-4-mini's partial_rotary_factor 0.75)", function ()
    local r = lmp.analyze(h.build(edited(NAME, { partial_rotary_factor = 0.75 })), AT_128, { depth = 4 })
    -- 3 * 128 tokens * 72 values * (32 + 32) heads = 1,769,472
    assert.are.equal(1769472, r:find("apply_rotary_pos_emb$")[1].flops)
  end)

  it("reads and caches at most the 2047-token window in decode", function ()
    -- one new token over 3000 cached: the cache holds min(3001, 2047) = 2047 tokens,
    --   2 (K, V) * 32 layers * 32 KV heads * 96 * 2047 * 2 B = 804,913,152
    -- matmul: the weights 2 * 3,722,379,264 = 7,444,758,528; attention over min(3000, 2046) + 1
    --   = 2047 keys: 4 * 32 layers * 32 heads * 2047 * 96 = 804,913,152; rotary_emb 1 * 96 -> 8,249,671,776
    local r = lmp.analyze(lmp.load_config(R .. NAME), { batch_size = 1, seq_len = 1, kv_len = 3000 })
    assert.are.equal(804913152, r.footprint.kv_cache)
    assert.are.equal(8249671776, r.totals.matmul_flops)
  end)

  it("refuses a bad field, naming it", function ()
    assert.error_matches(build_error(edited(NAME, { partial_rotary_factor = 2 })), "partial_rotary_factor: expected a number in")
  end)
end)
