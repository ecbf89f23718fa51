-- The Falcon builder (lua/lmp/builders/falcon.lua) on falcon-7b: fused query_key_value with one
-- K/V head (multi_query), parallel attention and MLP on one LayerNorm, tied lm_head.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model) return lmp.analyze(model, AT_128) end
local edited = h.edited_config
local build = h.build
local build_error = h.build_error

local NAME = "tiiuae--falcon-7b.json"

describe("falcon builder", function ()
  it("counts falcon-7b exactly", function ()
    -- hidden 4544, 71 heads of 64, one K/V head, MLP 4 * 4544 = 18176, 32 layers, vocab 65024
    -- per layer: query_key_value 4544 * (71 + 2) * 64 = 21,229,568; dense 4544^2 = 20,647,936;
    --   dense_h_to_4h, dense_4h_to_h 2 * 4544 * 18176 = 165,183,488; input_layernorm 2 * 4544 = 9,088
    --   -> 207,070,080; x 32 = 6,626,242,560
    -- word_embeddings 65024 * 4544 = 295,469,056 (lm_head tied: none); ln_f 9,088 -> 6,921,720,704
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(6921720704, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors FalconForCausalLM's tree", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.equal("transformer", m.layers[1].name)
    assert.are.equal("transformer.word_embeddings", m.layers[2].weights_tied_to)
    local block = m.layers[1].sub_layers[2]
    assert.are.equal("transformers.models.falcon.modeling_falcon.FalconDecoderLayer", block.class)
    local names = {}
    for _, l in ipairs(block.sub_layers) do names[#names + 1] = l.name end
    assert.are.same({ "input_layernorm", "self_attention", "mlp", "mlp_add_attention", "residual_add" }, names)
    local qkv = block.sub_layers[2].sub_layers[1]
    assert.are.equal("transformers.models.falcon.modeling_falcon.FalconLinear", qkv.class)
    assert.are.equal(4672, qkv.parameters.out_features)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 32 * (21,229,568 + 20,647,936 + 165,183,488) + lm_head 4544 * 65024
    --   = 32 * 207,060,992 + 295,469,056 = 6,921,420,800; x 2 * 128 = 1,771,883,724,800
    -- attention: 4 * 32 layers * 71 heads * 64 * 128 * 128 = 9,529,458,688 (one K/V head is
    --   shared, every query head still scores every key)
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 64 = 8,192
    -- total 1,781,413,191,680
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(1781413191680, r.totals.matmul_flops)
  end)

  it("builds the new decoder architecture (Falcon-40B shape)", function ()
    -- hand-derived: hidden 8192, 128 heads of 64, 8 KV heads, 60 layers, vocab 65024
    -- per layer: query_key_value 8192 * (128 + 2 * 8) * 64 = 75,497,472; dense 8192^2 = 67,108,864;
    --   MLP 2 * 8192 * 32768 = 536,870,912; ln_attn and ln_mlp 4 * 8192 = 32,768 -> 679,510,016
    -- 60 layers 40,770,600,960; word_embeddings 65024 * 8192 = 532,676,608; ln_f 16,384
    -- total 41,303,293,952
    local r = analyze(build(edited(NAME, { hidden_size = 8192, num_attention_heads = 128, num_kv_heads = 8,
      num_hidden_layers = 60, new_decoder_architecture = true })))
    assert.are.equal(41303293952, r.totals.params)
  end)

  it("builds sequential attention and MLP when parallel_attn is false", function ()
    local block = lmp.build(edited(NAME, { parallel_attn = false })).layers[1].sub_layers[2]
    assert.are.equal("post_attention_layernorm", block.sub_layers[4].name)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { num_attention_heads = REMOVE })), "num_attention_heads: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { multi_query = 1 })), "multi_query: expected true or false")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited(NAME, { hidden_size = 71 << 30 })), "hidden_size: .* is beyond")
    end)
    it("ALiBi, which it does not price", function ()
      assert.error_matches(build_error(edited(NAME, { alibi = true })), "alibi: ALiBi attention is not supported")
    end)
  end)

  it("bundles models/falcon-7b.json with the published count", function ()
    local r = analyze(lmp.load_model("models/falcon-7b.json"))
    assert.are.equal(6921720704, r.totals.params)
  end)
end)
