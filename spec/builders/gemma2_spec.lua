-- The Gemma 2 builder (lua/lmp/builders/gemma2.lua) on gemma-2-2b: four Gemma2RMSNorm a layer,
-- attention and final logit soft-capping, sliding-window (window 4096) and global layers in turn.
-- Every expected figure is derived by hand in the comments, from modeling_gemma2.py and the config.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "google--gemma-2-2b.json"
local M = "transformers.models.gemma2.modeling_gemma2."

local function analyze(model, inputs) return lmp.analyze(model, inputs or AT_128) end
local function decode(kv) return analyze((lmp.load_config(R .. NAME)), { batch_size = 1, seq_len = 1, kv_len = kv }) end

describe("gemma2 builder", function ()
  it("counts gemma-2-2b exactly (2,614,341,888, published)", function ()
    -- hidden 2304, 26 layers, 8 heads and 4 KV heads of 256, intermediate 9216, vocab 256000
    -- per layer: q, o 2 * 2304 * 2048 = 9,437,184; k, v 2 * 2304 * 1024 = 4,718,592;
    --   gate/up/down 3 * 2304 * 9216 = 63,700,992; four Gemma2RMSNorm 9,216: 77,865,984
    -- 26 layers 2,024,515,584; embed_tokens 256000 * 2304 = 589,824,000 (lm_head tied); norm 2,304
    local r = analyze((lmp.load_config(R .. NAME)))
    assert.are.equal(2614341888, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors Gemma2ForCausalLM: 13 sliding and 13 global layers, soft-capping, tied lm_head", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    local model = m.layers[1]
    assert.are.equal(M .. "Gemma2Model", model.class)
    assert.are.equal(M .. "Gemma2Model.normalizer", model.sub_layers[2].class)
    local sliding, global = model.sub_layers[3], model.sub_layers[4]
    assert.are.equal(M .. "Gemma2DecoderLayer", sliding.class)
    assert.are.equal(13, sliding["repeat"])
    assert.are.equal(13, global["repeat"])
    assert.matches("sliding_attention %(window 4096%): layers 0, 2, 4", sliding.note)
    assert.matches("full_attention: layers 1, 3, 5", global.note)
    local names = {}
    for _, l in ipairs(sliding.sub_layers) do names[#names + 1] = l.name end
    assert.are.same({ "input_layernorm", "self_attn", "post_attention_layernorm", "residual_add_attn",
                      "pre_feedforward_layernorm", "mlp", "post_feedforward_layernorm", "residual_add_mlp" }, names)
    assert.are.equal(M .. "Gemma2RMSNorm", sliding.sub_layers[1].class)
    local attn = sliding.sub_layers[2].sub_layers
    assert.are.equal("attn_logit_softcapping", attn[#attn - 1].name)
    assert.are.equal("model.embed_tokens", m.layers[2].weights_tied_to)
    assert.are.equal("final_logit_softcapping", m.layers[3].name)
  end)

  it("prices one decoder layer at batch 1, seq 128 by hand", function ()
    -- T 128, H 2304, 8 heads and 4 KV heads of d 256, I 9216. Matmuls:
    --   q, o 2 * 128 * 2304 * 2048 = 1,207,959,552 each; k, v 2 * 128 * 2304 * 1024 = 603,979,776 each
    --   scores and values 4 * 8 * 128 * 128 * 256 = 134,217,728 (128 keys: the window is not reached)
    --   gate/up/down 3 * 2 * 128 * 2304 * 9216 = 16,307,453,952      -> 20,065,550,336
    -- elementwise: four norms 4 * (T*H*(3 + 1) + H for 1 + weight) = 4,727,808; rotary 3 * T * 12 * 256
    --   = 1,179,648; per score (8 * 128 * 128 = 131,072) scale, softmax, mask 7 = 917,504 and the
    --   soft-cap (/cap, tanh, *cap) 3 = 393,216; gelu_tanh 9 * T * I = 10,616,832; the GeGLU mul T * I
    --   = 1,179,648; two residual adds 2 * T * H = 589,824                -> 19,604,480
    local r = analyze((lmp.load_config(R .. NAME)))
    local layers = r:find("^model%.layers$")
    assert.are.equal(2, #layers)
    for _, l in ipairs(layers) do
      assert.are.equal(13 * 20065550336, l.matmul_flops)
      assert.are.equal(13 * (20065550336 + 19604480), l.flops)
    end
    -- the final soft-cap: 3 an element over 128 * 256000 logits
    assert.are.equal(3 * 128 * 256000, r:find("^final_logit_softcapping$")[1].flops)
  end)

  describe("decode: sliding layers read and cache at most 4096 tokens, global ones every token", function ()
    -- one token: Linear weights 26 * 77,856,768 + lm_head 589,824,000 = 2,614,099,968, x 2 = 5,228,199,936;
    -- attention 4 * 8 * keys * 256 = 8,192 * keys a layer: 13 layers at min(kv_len, 4095) + 1 keys and
    -- 13 at kv_len + 1; the cache 2 * 4 * 256 * 2 bytes = 4,096 bytes a token a layer;
    -- rotary_emb's inv_freq @ position_ids, once a forward: 1 * 256 = 256
    it("below the window (kv_len 1000): both kinds 1001 tokens", function ()
      local r = decode(1000)
      assert.are.equal(5228199936 + 26 * 8192 * 1001 + 256, r.totals.matmul_flops) -- 5,441,405,184
      assert.are.equal(26 * 4096 * 1001, r.footprint.kv_cache)               -- 106,602,496
    end)
    it("beyond it (kv_len 10000): sliding layers 4096, global 10001", function ()
      local r = decode(10000)
      assert.are.equal(5228199936 + 13 * 8192 * (4096 + 10001) + 256, r.totals.matmul_flops) -- 6,729,474,304
      assert.are.equal(13 * 4096 * (4096 + 10001), r.footprint.kv_cache)               -- 750,637,056
    end)
  end)

  it("takes layer_types when the config gives it, and no window when sliding_window is null", function ()
    local types = {}
    for i = 1, 26 do types[i] = i <= 20 and "full_attention" or "sliding_attention" end
    local m = lmp.build(edited(NAME, { layer_types = types }))
    assert.are.equal(6, m.layers[1].sub_layers[3]["repeat"])
    assert.are.equal(20, m.layers[1].sub_layers[4]["repeat"])
    local r = analyze(h.build(edited(NAME, { sliding_window = lmp.core.null })), { batch_size = 1, seq_len = 1, kv_len = 10000 })
    assert.are.equal(26 * 4096 * 10001, r.footprint.kv_cache)
  end)

  it("drops the soft-caps a config leaves null", function ()
    local r = analyze(h.build(edited(NAME, { attn_logit_softcapping = lmp.core.null, final_logit_softcapping = lmp.core.null })))
    assert.are.same({}, r:find("softcapping"))
    -- 26 layers' score caps 26 * 393,216 and the final one 98,304,000 fewer FLOPs than 673,308,750,080
    -- without the rotary tables; rotary_emb adds 5 * 128 * 256 = 163,840 (its matmul and 4 FLOPs a value)
    assert.are.equal(673308750080 - 26 * 393216 - 3 * 128 * 256000 + 5 * 128 * 256, r.totals.flops)
  end)

  it("computes the rotary tables once a forward in Gemma2Model.rotary_emb", function ()
    local r = lmp.analyze((lmp.load_config(R .. NAME)), { batch_size = 2, seq_len = 128 }, { depth = 2 })
    local rope = r:find("^model%.rotary_emb$")
    assert.are.equal(1, #rope)
    assert.are.equal(M .. "Gemma2RotaryEmbedding", rope[1].class)
    -- inv_freq @ position_ids, [2, 128, 1] x [2, 1, 128]: 2 * 2 * 128 * 128 = 65,536 = B * seq * head_dim
    assert.are.equal(65536, rope[1].matmul_flops)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("layer_types of the wrong length", function ()
      assert.error_matches(build_error(edited(NAME, { layer_types = { "full_attention" } })), "layer_types: expected a list of 26")
    end)
    it("an unknown layer type", function ()
      local types = {}
      for i = 1, 26 do types[i] = "full_attention" end
      types[3] = "chunked_attention"
      assert.error_matches(build_error(edited(NAME, { layer_types = types })), "layer_types: entry 3 is chunked_attention")
    end)
    it("a soft-cap that is not positive", function ()
      assert.error_matches(build_error(edited(NAME, { final_logit_softcapping = 0 })), "final_logit_softcapping: expected a positive number")
    end)
  end)
end)
