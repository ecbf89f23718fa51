-- The Llama builder (lua/lmp/builders/llama.lua) on Llama 2 and Llama 3 configs: parameter
-- counts equal to the published ones, every class known, matmul FLOPs in closed form, and clear
-- errors for bad configs. Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }

local function analyze(model) return lmp.analyze(model, AT_128) end
local REMOVE = h.REMOVE
local edited = h.edited_config
local build = h.build

describe("llama builder", function ()
  it("counts Llama-2-7b-hf exactly", function ()
    -- per layer: q,k,v,o 4 * 4096^2 = 67,108,864; gate/up/down 3 * 4096 * 11008 = 135,266,304;
    --   two RMSNorms 8,192: 202,383,360; x 32 = 6,476,267,520
    -- embed_tokens and lm_head 2 * 32000 * 4096 = 262,144,000; norm 4,096 -> 6,738,415,616
    local r = analyze(lmp.load_config(R .. "meta-llama--Llama-2-7b-hf.json"))
    assert.are.equal(6738415616, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts Llama-2-70b-hf exactly (GQA, 8 KV heads of 128)", function ()
    -- per layer: q, o 2 * 8192^2 = 134,217,728; k, v 2 * 8192 * 1024 = 16,777,216;
    --   gate/up/down 3 * 8192 * 28672 = 704,643,072; norms 16,384: 855,654,400; x 80 = 68,452,352,000
    -- embed_tokens and lm_head 2 * 32000 * 8192 = 524,288,000; norm 8,192 -> 68,976,648,192
    local r = analyze(lmp.load_config(R .. "meta-llama--Llama-2-70b-hf.json"))
    assert.are.equal(68976648192, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts Meta-Llama-3-8B exactly (GQA, vocab 128256, untied)", function ()
    -- per layer: q, o 2 * 4096^2 = 33,554,432; k, v 2 * 4096 * 1024 = 8,388,608;
    --   gate/up/down 3 * 4096 * 14336 = 176,160,768; norms 8,192: 218,112,000; x 32 = 6,979,584,000
    -- embed_tokens and lm_head 2 * 128256 * 4096 = 1,050,673,152; norm 4,096 -> 8,030,261,248
    local r = analyze(lmp.load_config(R .. "meta-llama--Meta-Llama-3-8B.json"))
    assert.are.equal(8030261248, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("prices Meta-Llama-3-8B at batch 1, seq 128 in closed form", function ()
    -- Linear weights: 32 * (33,554,432 + 8,388,608 + 176,160,768) + lm_head 4096 * 128256
    --   = 32 * 218,103,808 + 525,336,576 = 7,504,658,432; x 2 * 128 tokens = 1,921,192,558,592
    -- attention QK^T and PV: 4 * 32 layers * 1 * 32 heads * 128 * 128 * 128 = 8,589,934,592
    -- (K/V heads do not change it: every query head scores every key)
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 1,929,782,509,568
    local r = analyze(lmp.load_config(R .. "meta-llama--Meta-Llama-3-8B.json"))
    assert.are.equal(1929782509568, r.totals.matmul_flops)
  end)

  it("builds Llama 3.1's rope_scaling \"llama3\" with no change to any count", function ()
    local plain = analyze(lmp.load_config(R .. "meta-llama--Meta-Llama-3-8B.json"))
    local scaled = analyze(build(edited("meta-llama--Meta-Llama-3-8B.json", {
      max_position_embeddings = 131072,
      rope_scaling = { factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0,
                       original_max_position_embeddings = 8192, rope_type = "llama3" } })))
    assert.are.equal(8030261248, scaled.totals.params)
    assert.are.equal(plain.totals.flops, scaled.totals.flops)
    assert.are.equal(plain.totals.reads_bytes, scaled.totals.reads_bytes)
  end)

  it("ties lm_head to embed_tokens when tie_word_embeddings is true (Llama 3.2 1B shape)", function ()
    -- hidden 2048, 16 layers, 32 heads of 64, 8 KV heads, intermediate 8192, vocab 128256, tied
    -- per layer: q, o 2 * 2048^2 = 8,388,608; k, v 2 * 2048 * 512 = 2,097,152;
    --   MLP 3 * 2048 * 8192 = 50,331,648; norms 4,096: 60,821,504; x 16 = 973,144,064
    -- embed_tokens 128256 * 2048 = 262,668,288 (lm_head shares it); norm 2,048 -> 1,235,814,400
    local r = analyze(build(edited("meta-llama--Meta-Llama-3-8B.json", {
      hidden_size = 2048, intermediate_size = 8192, num_hidden_layers = 16, head_dim = 64,
      tie_word_embeddings = true })))
    assert.are.equal(1235814400, r.totals.params)
  end)

  it("takes head_dim from the config when heads * head_dim is not hidden_size", function ()
    -- hidden 64, 4 heads of 32, 2 KV heads, intermediate 128, 1 layer, vocab 10, untied:
    -- q 64*128 = 8,192; k, v 2 * 64*64 = 8,192; o 128*64 = 8,192; MLP 3 * 64*128 = 24,576;
    -- norms 128 -> layer 49,280; embed + lm_head 2 * 640 = 1,280; norm 64 -> 50,624
    local r = analyze(build({ model_type = "llama", hidden_size = 64, intermediate_size = 128,
      num_hidden_layers = 1, num_attention_heads = 4, num_key_value_heads = 2, head_dim = 32,
      vocab_size = 10 }))
    assert.are.equal(50624, r.totals.params)
  end)

  describe("refuses bad configs, naming the field", function ()
    local name = "meta-llama--Meta-Llama-3-8B.json"
    it("a missing field", function ()
      assert.error_matches(function () lmp.build(edited(name, { intermediate_size = REMOVE }), { source = "spec" }) end,
        "intermediate_size: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(function () lmp.build(edited(name, { num_attention_heads = "32" }), { source = "spec" }) end,
        "num_attention_heads: expected an integer")
    end)
    it("an absurd size", function ()
      assert.error_matches(function () lmp.build(edited(name, { hidden_size = 1 << 40 }), { source = "spec" }) end,
        "hidden_size: .* is beyond")
    end)
    it("KV heads that do not divide the heads", function ()
      assert.error_matches(function () lmp.build(edited(name, { num_key_value_heads = 5 }), { source = "spec" }) end,
        "num_attention_heads: 32 is not a multiple of num_key_value_heads")
    end)
    it("a rope_scaling that is not an object", function ()
      assert.error_matches(function () lmp.build(edited(name, { rope_scaling = "llama3" }), { source = "spec" }) end,
        "rope_scaling: expected an object")
    end)
  end)

  describe("bundled exports", function ()
    it("models/llama-2-70b-hf.json loads with the published count", function ()
      local r = analyze(lmp.load_model("models/llama-2-70b-hf.json"))
      assert.are.equal(68976648192, r.totals.params)
    end)
    it("models/meta-llama-3-8b.json loads with the published count", function ()
      local r = analyze(lmp.load_model("models/meta-llama-3-8b.json"))
      assert.are.equal(8030261248, r.totals.params)
      assert.are.same({}, r.unknown_modules)
    end)
  end)
end)
