-- The Mistral builder (lua/lmp/builders/mistral.lua) on Mistral-7B-v0.1: Llama-shaped with GQA.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model) return lmp.analyze(model, AT_128) end
local edited = h.edited_config
local build_error = h.build_error

local NAME = "mistralai--Mistral-7B-v0.1.json"

describe("mistral builder", function ()
  it("counts Mistral-7B-v0.1 exactly", function ()
    -- per layer: q, o 2 * 4096^2 = 33,554,432; k, v 2 * 4096 * 1024 (8 KV heads of 128) = 8,388,608;
    --   gate/up/down 3 * 4096 * 14336 = 176,160,768; two MistralRMSNorm 8,192: 218,112,000
    -- 32 layers 6,979,584,000; embed_tokens and lm_head 2 * 32000 * 4096 = 262,144,000; norm 4,096
    -- total 7,241,732,096
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(7241732096, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("uses Mistral's own classes", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.equal("transformers.models.mistral.modeling_mistral.MistralModel", m.layers[1].class)
    local layer = m.layers[1].sub_layers[2]
    assert.are.equal("transformers.models.mistral.modeling_mistral.MistralDecoderLayer", layer.class)
    assert.are.equal("transformers.models.mistral.modeling_mistral.MistralRMSNorm", layer.sub_layers[1].class)
    assert.are.equal("transformers.models.mistral.modeling_mistral.MistralAttention", layer.sub_layers[2].class)
    assert.are.equal("transformers.models.mistral.modeling_mistral.MistralMLP", layer.sub_layers[5].class)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 32 * (33,554,432 + 8,388,608 + 176,160,768) + lm_head 4096 * 32000
    --   = 6,979,321,856 + 131,072,000 = 7,110,393,856; x 2 * 128 = 1,820,260,827,136
    -- attention: 4 * 32 layers * 32 heads * 128 * 128 * 128 = 8,589,934,592 (dense: the sliding
    --   window of 4096 masks nothing at 128 tokens, and scores are counted dense anyway)
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 1,828,850,778,112
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(1828850778112, r.totals.matmul_flops)
  end)

  describe("a decode step reads and caches at most the sliding window (4096 tokens)", function ()
    -- one token, batch 1: the Linear weights 2 * 7,110,393,856 = 14,220,787,712 FLOPs; attention
    --   4 * 32 heads * 1 * keys * 128 = 16,384 * keys a layer, 524,288 * keys over 32 layers, with
    --   keys = min(kv_len, 4095) + 1 (the cache keeps at most 4095 earlier tokens besides the new one);
    --   rotary_emb's inv_freq @ position_ids for the one position, 1 * 128 = 128
    -- KV cache: K and V of 8 heads of 128 in 32 layers at 2 bytes = 131,072 bytes a token,
    --   for min(kv_len + 1, 4096) tokens
    local function decode(kv) return lmp.analyze(lmp.load_config(R .. NAME), { batch_size = 1, seq_len = 1, kv_len = kv }) end
    it("below the window: every cached token (kv_len 100, 101 keys)", function ()
      local r = decode(100)
      assert.are.equal(14220787712 + 524288 * 101 + 128, r.totals.matmul_flops) -- 14,273,740,928
      assert.are.equal(131072 * 101, r.footprint.kv_cache)                -- 13,238,272
    end)
    it("at the window's edge: kv_len 4095 is 4096 keys", function ()
      assert.are.equal(14220787712 + 524288 * 4096 + 128, decode(4095).totals.matmul_flops)
    end)
    it("beyond it: kv_len 5000 and 100,000 read 4096 keys and cache 4096 tokens", function ()
      for _, kv in ipairs({ 5000, 100000 }) do
        local r = decode(kv)
        assert.are.equal(14220787712 + 524288 * 4096 + 128, r.totals.matmul_flops) -- 16,368,271,488
        assert.are.equal(131072 * 4096, r.footprint.kv_cache)                -- 536,870,912
        -- the attention's K and V reads: 2 * 8 heads * 4096 keys * 128 * 2 bytes = 16,777,216 a layer
        local sdpa = r:find("scaled_dot_product_attention$")[1]
        assert.are.equal(16777216 + 32 * 128 * 2, sdpa.reads_bytes) -- plus the one query of 32 heads
      end
    end)
    it("a config without a window (null, as in later Mistral versions) caches every token", function ()
      local r = lmp.analyze(h.build(edited(NAME, { sliding_window = lmp.core.null })), { batch_size = 1, seq_len = 1, kv_len = 5000 })
      assert.are.equal(131072 * 5001, r.footprint.kv_cache)
    end)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { vocab_size = REMOVE })), "vocab_size: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { tie_word_embeddings = "no" })), "tie_word_embeddings: expected true or false")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited(NAME, { num_hidden_layers = 1 << 30 })), "num_hidden_layers: .* is beyond")
    end)
  end)

  it("bundles models/mistral-7b-v0.1.json with the published count", function ()
    local r = analyze(lmp.load_model("models/mistral-7b-v0.1.json"))
    assert.are.equal(7241732096, r.totals.params)
  end)
end)
