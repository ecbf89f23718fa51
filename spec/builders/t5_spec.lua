-- The T5 builder (lua/lmp/builders/t5.lua) on google-t5/t5-small (T5ForConditionalGeneration):
-- encoder and decoder stacks, relative attention bias in each stack's first block, T5LayerNorm,
-- no biases, cross-attention, lm_head tied to shared (with the d_model^-0.5 output scaling).
-- The encoder runs in the prefill only, over ${enc_len} positions (default: kv_len + seq_len, the
-- prompt it saw, in decode too).
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local NAME = "google-t5--t5-small.json"
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

-- d_model 512, d_ff 2048, 8 heads of d_kv 64 (inner 512), 6 + 6 layers, vocab 32128, 32 buckets
-- Linear weights (no biases): an attention's q, k, v, o 4 * 512 * 512 = 1,048,576; the FF's
-- wi, wo 2 * 512 * 2048 = 2,097,152. Per decoder token: 6 * (self 1,048,576 + cross q and o
-- 524,288 + FF 2,097,152) = 22,020,096 + lm_head 512 * 32128 = 16,449,536 -> 38,469,632;
-- cross k and v per encoder position 6 * 524,288 = 3,145,728; encoder per position
-- 6 * (1,048,576 + 2,097,152) = 18,874,368. Attention per layer 4 * 8 * 64 * q * k = 2,048 q k;
-- six layers 12,288 q k.

describe("t5 builder", function ()
  it("counts t5-small exactly: 60,506,624", function ()
    -- shared 32128 * 512 = 16,449,536 (encoder/decoder embed_tokens and lm_head tied to it)
    -- encoder block: attention 1,048,576 + layer_norm 512; FF 2,097,152 + layer_norm 512 -> 3,146,752;
    --   x 6 = 18,880,512; relative_attention_bias 32 * 8 = 256; final_layer_norm 512 -> 18,881,280
    -- decoder block: self 1,048,576 + 512; cross 1,048,576 + 512; FF 2,097,152 + 512 -> 4,195,840;
    --   x 6 = 25,175,040; relative_attention_bias 256; final_layer_norm 512 -> 25,175,808
    -- total 16,449,536 + 18,881,280 + 25,175,808 = 60,506,624
    local r = analyze(reference())
    assert.are.equal(60506624, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors T5ForConditionalGeneration's tree", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.same({ "shared", "encoder", "decoder", "scale_decoder_outputs", "lm_head" }, names(m.layers))
    assert.are.equal("shared", m.layers[5].weights_tied_to)
    local encoder, decoder = m.layers[2], m.layers[3]
    assert.are.same({ "embed_tokens", "dropout", "block.0", "block", "final_layer_norm", "dropout" },
      names(encoder.sub_layers))
    assert.are.equal("shared", encoder.sub_layers[1].weights_tied_to)
    assert.are.equal(5, encoder.sub_layers[4]["repeat"])
    assert.are.same({ "q", "k", "v", "relative_position_bucket", "relative_attention_bias", "add_mask",
      "scaled_dot_product_attention", "o" }, names(encoder.sub_layers[3].sub_layers[1].sub_layers[2].sub_layers))
    assert.are.same({ "q", "k", "v", "scaled_dot_product_attention", "o" },
      names(encoder.sub_layers[4].sub_layers[1].sub_layers[2].sub_layers))
    local block0 = decoder.sub_layers[3]
    assert.are.same({ "layer.0", "layer.1", "layer.2" }, names(block0.sub_layers))
    assert.are.same({ "q", "k", "v", "past_key_value", "add_mask", "scaled_dot_product_attention", "o" },
      names(block0.sub_layers[2].sub_layers[2].sub_layers))
    assert.are.same({ "wi", "act", "dropout", "wo" }, names(block0.sub_layers[3].sub_layers[2].sub_layers))
    assert.are.equal("transformers.models.t5.modeling_t5.T5LayerNorm", block0.sub_layers[1].sub_layers[1].class)
  end)

  it("prices a prefill of batch 1, seq 128 (enc_len 128) in closed form", function ()
    -- encoder 18,874,368 * 2 * 128 = 4,831,838,208; attention 12,288 * 128 * 128 = 201,326,592
    -- decoder 38,469,632 * 2 * 128 = 9,848,225,792; cross k, v 3,145,728 * 2 * 128 = 805,306,368;
    --   self and cross attention 2 * 201,326,592 = 402,653,184
    -- total 4,831,838,208 + 201,326,592 + 9,848,225,792 + 805,306,368 + 402,653,184 = 16,089,350,144
    assert.are.equal(16089350144, analyze(reference()).totals.matmul_flops)
  end)

  it("prices an encoder input longer than the decoder's (enc_len 200)", function ()
    -- encoder 18,874,368 * 2 * 200 = 7,549,747,200; attention 12,288 * 200 * 200 = 491,520,000
    -- decoder 9,848,225,792 (as above); cross k, v 3,145,728 * 2 * 200 = 1,258,291,200;
    --   self attention 201,326,592; cross 12,288 * 128 * 200 = 314,572,800
    -- total 19,663,683,584
    local r = analyze(reference(), { batch_size = 1, seq_len = 128, kv_len = 0, enc_len = 200 })
    assert.are.equal(19663683584, r.totals.matmul_flops)
  end)

  it("runs no encoder and reuses the cross K/V in a decode step", function ()
    -- one token over 127 cached, enc_len 128: decoder 38,469,632 * 2 = 76,939,264;
    -- self attention 12,288 * 1 * 128 = 1,572,864; cross 12,288 * 1 * 128 = 1,572,864 -> 80,084,992
    local r = lmp.analyze(reference(), { batch_size = 1, seq_len = 1, kv_len = 127, enc_len = 128 }, { depth = 1 })
    assert.are.equal(80084992, r.totals.matmul_flops)
    assert.are.equal(0, r.tree[2].flops)
    -- weights read: none by the encoder (N = 0 in every layer: it does not run) nor by the cross k and v
    -- (N = 0: their K/V are cached); decoder Linears 22,020,096 * 2 B = 44,040,192, its 6 * 3 + 1 = 19
    -- T5LayerNorms 19 * 512 * 2 = 19,456, embed_tokens one row 512 * 2 = 1,024, relative_attention_bias
    -- 1 * 128 (q, k) pairs * 8 heads * 2 = 2,048 -> 44,062,720; lm_head 16,449,536 * 2 = 32,899,072;
    -- total 76,961,792
    assert.are.equal(0, r.tree[2].weight_bytes)
    assert.are.equal(76961792, r.totals.weight_bytes)
    -- the cache holds self K/V for 128 tokens and cross K/V for 128 positions in each of 6 layers:
    -- 2 * 6 * 2 (K and V) * 8 * 64 * 128 * 2 B = 3,145,728
    assert.are.equal(3145728, r.totals.state_bytes)
  end)

  it("takes the encoder length a decode step means by default: kv_len + seq_len", function ()
    -- one token over 127 cached: enc_len 127 + 1 = 128, the figures of the step above
    --   (80,084,992 matmul FLOPs; the cross K/V of 128 positions in the cache: 3,145,728 bytes)
    local r = lmp.analyze(reference(), { batch_size = 1, seq_len = 1, kv_len = 127 })
    assert.are.equal(128, r.inputs.enc_len)
    assert.are.equal(80084992, r.totals.matmul_flops)
    assert.are.equal(3145728, r.totals.state_bytes)
    -- over 511 cached, enc_len 512: decoder 76,939,264 + self 12,288 * 512 + cross 12,288 * 512
    --   = 76,939,264 + 6,291,456 + 6,291,456 = 89,522,176
    assert.are.equal(89522176, lmp.analyze(reference(), { batch_size = 1, seq_len = 1, kv_len = 511 }).totals.matmul_flops)
    -- the CLI: --phase decode --kv-len 127 says enc_len 128; --enc-len still overrides it
    local out, err, code = h.run("analyze", "models/t5-small.json", "--phase", "decode", "--kv-len", "127", "--format", "json")
    assert.are.equal(0, code, err)
    assert.are.equal(128, lmp.json_decode(out).inputs.enc_len)
    out = h.run("analyze", "models/t5-small.json", "--phase", "decode", "--kv-len", "127", "--enc-len", "40", "--format", "json")
    assert.are.equal(40, lmp.json_decode(out).inputs.enc_len)
  end)

  it("builds the gated FF (flan-t5) and an untied lm_head", function ()
    -- gated-gelu: wi_0, wi_1 add 512 * 2048 = 1,048,576 in each of 12 blocks -> + 12,582,912;
    -- untied: lm_head 16,449,536 more -> 60,506,624 + 12,582,912 + 16,449,536 = 89,539,072
    local cfg = edited({ feed_forward_proj = "gated-gelu", tie_word_embeddings = false })
    local m = lmp.build(cfg)
    assert.are.same({ "shared", "encoder", "decoder", "lm_head" }, names(m.layers))
    local dense = m.layers[2].sub_layers[3].sub_layers[2].sub_layers[2]
    assert.are.same({ "wi_0", "act", "wi_1", "mul", "dropout", "wo" }, names(dense.sub_layers))
    assert.are.equal("transformers.activations.NewGELUActivation", dense.sub_layers[2].class)
    assert.are.equal(89539072, analyze(build(cfg)).totals.params)
  end)

  describe("refuses, naming the field,", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited({ d_kv = REMOVE })), "d_kv: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited({ num_heads = "8" })), 'num_heads: expected an integer, got "8"')
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited({ d_model = 1 << 40 })), "d_model: .* is beyond")
    end)
    it("a malformed feed_forward_proj", function ()
      assert.error_matches(build_error(edited({ feed_forward_proj = "gated-gelu-x" })),
        'feed_forward_proj: "gated%-gelu%-x" is not of the form')
    end)
  end)

  it("bundles models/t5-small.json with the published count", function ()
    local r = analyze(lmp.load_model("models/t5-small.json"))
    assert.are.equal(60506624, r.totals.params)
    assert.are.equal(16089350144, r.totals.matmul_flops)
  end)
end)
