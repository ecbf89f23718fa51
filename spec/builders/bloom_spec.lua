-- The BLOOM builder (lua/lmp/builders/bloom.lua) on bigscience/bloom-560m: word_embeddings_layernorm,
-- ALiBi (built once, added to every layer's scores), fused query_key_value, BloomGelu, tied lm_head.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local NAME = "bigscience--bloom-560m.json"
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model, inputs) return lmp.analyze(model, inputs or AT_128) end
local function reference() return (lmp.load_config(R .. NAME)) end
local function edited(changes) return h.edited_config(NAME, changes) end
local build = h.build
local build_error = h.build_error
local function names(layers)
  local out = {}
  for _, l in ipairs(layers) do out[#out + 1] = l.name end
  return out
end

describe("bloom builder", function ()
  it("counts bloom-560m exactly: 559,214,592", function ()
    -- hidden 1024, 24 layers, 16 heads of 64, MLP 4 * 1024 = 4096, vocab 250880
    -- word_embeddings 250880 * 1024 = 256,901,120; word_embeddings_layernorm 2 * 1024 = 2,048
    -- per layer: input_layernorm, post_attention_layernorm 2 * 2,048 = 4,096;
    --   query_key_value 1024 * 3072 + 3072 = 3,148,800; dense 1024 * 1024 + 1024 = 1,049,600;
    --   dense_h_to_4h 1024 * 4096 + 4096 = 4,198,400; dense_4h_to_h 4096 * 1024 + 1024 = 4,195,328
    --   -> 12,596,224; x 24 = 302,309,376
    -- ln_f 2,048; lm_head tied: 0 -> 559,214,592
    local r = analyze(reference())
    assert.are.equal(559214592, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors BloomForCausalLM's tree", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.same({ "transformer", "lm_head" }, names(m.layers))
    assert.are.equal("transformer.word_embeddings", m.layers[2].weights_tied_to)
    assert.are.same({ "word_embeddings", "word_embeddings_layernorm", "build_alibi_tensor", "h", "ln_f" },
      names(m.layers[1].sub_layers))
    local block = m.layers[1].sub_layers[4]
    assert.are.equal(24, block["repeat"])
    assert.are.same({ "input_layernorm", "self_attention", "post_attention_layernorm", "mlp" }, names(block.sub_layers))
    assert.are.same({ "query_key_value", "layer_past", "alibi", "scaled_dot_product_attention", "attention_dropout",
      "dense", "dropout_add" }, names(block.sub_layers[2].sub_layers))
    assert.are.same({ "dense_h_to_4h", "gelu_impl", "dense_4h_to_h", "dropout_add" }, names(block.sub_layers[4].sub_layers))
    assert.are.equal("transformers.models.bloom.modeling_bloom.BloomGelu", block.sub_layers[4].sub_layers[2].class)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights 24 * (1024*3072 + 1024*1024 + 1024*4096 + 4096*1024) = 24 * 12,582,912 = 301,989,888
    -- + the tied lm_head's product 1024 * 250880 = 256,901,120 -> 558,891,008; x 2 * 128 = 143,076,098,048
    -- attention (Q K^T in baddbmm, probs @ V in bmm) 4 * 24 layers * 16 heads * 64 * 128 * 128
    --   = 1,610,612,736 -> 144,686,710,784
    assert.are.equal(144686710784, analyze(reference()).totals.matmul_flops)
  end)

  it("builds ALiBi once and adds it to every layer's scores", function ()
    local r = lmp.analyze(reference(), AT_128, { depth = 4 })
    local model = r.tree[1].children
    -- build: 16 slopes + 3 * 128 mask ops + 16 * 128 products = 16 + 384 + 2,048 = 2,448
    assert.are.equal(2448, model[3].flops)
    -- the add on 16 heads x 128 x 128 scores: 262,144 per layer
    local alibi = model[4].children[2].children[3]
    assert.are.equal("alibi", alibi.name)
    assert.are.equal(262144, alibi.flops)
  end)

  it("reads the n_embed and num_* aliases of BloomConfig", function ()
    -- n_embed overrides hidden_size; num_hidden_layers and num_attention_heads stand for n_layer and n_head
    local cfg = edited({ n_layer = REMOVE, n_head = REMOVE, num_hidden_layers = 24, num_attention_heads = 16,
                         hidden_size = 4, n_embed = 1024 })
    assert.are.equal(559214592, analyze(build(cfg)).totals.params)
  end)

  describe("refuses, naming the field,", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited({ vocab_size = REMOVE })), "vocab_size: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited({ n_head = 16.5 })), "n_head: expected an integer, got 16.5")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited({ hidden_size = 1 << 40 })), "hidden_size: .* is beyond")
    end)
    it("the sliced tensor-parallel products", function ()
      assert.error_matches(build_error(edited({ pretraining_tp = 4, slow_but_exact = true })),
        "slow_but_exact: .* not supported")
    end)
  end)

  it("bundles models/bloom-560m.json with the published count", function ()
    local r = analyze(lmp.load_model("models/bloom-560m.json"))
    assert.are.equal(559214592, r.totals.params)
    assert.are.equal(144686710784, r.totals.matmul_flops)
  end)
end)
