-- The Gemma 3 text builder (lua/lmp/builders/gemma3.lua) on gemma-3-1b-pt: Gemma 2's layer with
-- q/k norms, the scaled embedding, five sliding-window layers (window 512) to one global.
-- Every expected figure is derived by hand in the comments, from modeling_gemma3.py and the config.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local edited = h.edited_config
local build_error = h.build_error

local NAME = "google--gemma-3-1b-pt.json"
local M = "transformers.models.gemma3.modeling_gemma3."

local function analyze(model, inputs) return lmp.analyze(model, inputs or h.AT_128) end
local function decode(kv) return analyze((lmp.load_config(R .. NAME)), { batch_size = 1, seq_len = 1, kv_len = kv }) end

describe("gemma3_text builder", function ()
  it("counts gemma-3-1b-pt exactly (999,885,952, published)", function ()
    -- hidden 1152, 26 layers, 4 heads and 1 KV head of 256, intermediate 6912, vocab 262144
    -- per layer: q, o 2 * 1152 * 1024 = 2,359,296; k, v 2 * 1152 * 256 = 589,824;
    --   gate/up/down 3 * 1152 * 6912 = 23,887,872; four Gemma3RMSNorm 4,608; q_norm, k_norm 512: 26,842,112
    -- 26 layers 697,894,912; embed_tokens 262144 * 1152 = 301,989,888 (lm_head tied); norm 1,152
    local r = analyze((lmp.load_config(R .. NAME)))
    assert.are.equal(999885952, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors Gemma3ForCausalLM: 22 sliding and 4 global layers (5:1), q/k norms, scaled embedding", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    local model = m.layers[1]
    assert.are.equal(M .. "Gemma3TextModel", model.class)
    assert.are.equal(M .. "Gemma3TextScaledWordEmbedding", model.sub_layers[1].class)
    local sliding, global = model.sub_layers[2], model.sub_layers[3]
    assert.are.equal(22, sliding["repeat"])
    assert.are.equal(4, global["repeat"])
    assert.are.equal("full_attention: layers 5, 11, 17, 23", global.note)
    local attn = sliding.sub_layers[2]
    assert.are.equal(M .. "Gemma3Attention", attn.class)
    assert.are.equal("q_norm", attn.sub_layers[4].name)
    assert.are.equal(M .. "Gemma3RMSNorm", attn.sub_layers[4].class)
    assert.are.equal("k_norm", attn.sub_layers[5].name)
    assert.are.equal("model.embed_tokens", m.layers[2].weights_tied_to)
    assert.are.equal(2, #m.layers) -- final_logit_softcapping is null: no soft-cap
  end)

  it("prices one decoder layer at batch 1, seq 128 by hand", function ()
    -- T 128, H 1152, 4 heads and 1 KV head of d 256, I 6912. Matmuls:
    --   q, o 2 * 128 * 1152 * 1024 = 301,989,888 each; k, v 2 * 128 * 1152 * 256 = 75,497,472 each
    --   scores and values 4 * 4 * 128 * 128 * 256 = 67,108,864
    --   gate/up/down 3 * 2 * 128 * 1152 * 6912 = 6,115,295,232              -> 6,937,378,816
    -- elementwise: four norms 4 * (T*H*4 + H) = 2,363,904; q_norm over T*4 rows of 256: 524,288 + 256;
    --   k_norm over T rows: 131,072 + 256; rotary 3 * T * 5 * 256 = 491,520; per score (4 * 128 * 128)
    --   scale, softmax, mask 7 = 458,752; gelu_tanh 9 * T * I = 7,962,624; mul T * I = 884,736;
    --   two adds 2 * T * H = 294,912                                         -> 13,112,320
    local r = analyze((lmp.load_config(R .. NAME)))
    local layers = r:find("^model%.layers$")
    assert.are.equal(22 * 6937378816, layers[1].matmul_flops)
    assert.are.equal(22 * (6937378816 + 13112320), layers[1].flops)
    assert.are.equal(4 * (6937378816 + 13112320), layers[2].flops)
    -- the embedding's scale: one multiply an element, 128 * 1152
    assert.are.equal(147456, r:find("^model%.embed_tokens$")[1].flops)
  end)

  describe("decode: 22 sliding layers read and cache at most 512 tokens, 4 global ones every token", function ()
    -- the cache: 2 * 1 * 256 * 2 bytes = 1,024 bytes a token a layer; attention 4 * 4 * keys * 256
    -- = 4,096 * keys a layer
    it("below the window (kv_len 100)", function ()
      local r = decode(100)
      assert.are.equal(26 * 1024 * 101, r.footprint.kv_cache) -- 2,689,024
    end)
    it("beyond it (kv_len 10000)", function ()
      local r, below = decode(10000), decode(100)
      assert.are.equal(22 * 1024 * 512 + 4 * 1024 * 10001, r.footprint.kv_cache) -- 52,498,432
      -- only attention grows with kv_len: 22 * 4096 * (512 - 101) + 4 * 4096 * (10001 - 101)
      assert.are.equal(22 * 4096 * 411 + 4 * 4096 * 9900, r.totals.matmul_flops - below.totals.matmul_flops)
    end)
  end)

  it("sums a generation whose decode steps cross the 512 window exactly", function ()
    -- prompt 500, 30 new tokens: 29 decode steps over kv_len 500 .. 528. A step's matmuls: the Linear
    --   weights (26 * 26,836,992 + lm_head 1152 * 262144 = 999,751,680) x 2 = 1,999,503,360, and
    --   4,096 * keys a layer: 22 sliding layers at min(kv, 511) + 1 keys (501 .. 511, then 512 for
    --   18 steps: 5,566 + 9,216 = 14,782), 4 global at kv + 1 (501 .. 529: 14,935)
    --   and rotary_emb and rotary_emb_local, 1 * 256 each: 29 * 2 * 256 = 14,848
    --   29 * 1,999,503,360 + 22 * 4096 * 14,782 + 4 * 4096 * 14,935 + 14,848 = 59,562,342,912
    -- the cache after the last step (529 tokens): 22 * 1024 * 512 + 4 * 1024 * 529 = 13,701,120
    local r = lmp.generate((lmp.load_config(R .. NAME)), { prompt_len = 500, new_tokens = 30 })
    assert.are.equal(59562342912, r.steps.decode.matmul_flops)
    assert.are.equal(13701120, r.footprint.kv_cache)
  end)

  it("reads sliding_window_pattern, and layer_types over it", function ()
    local m = lmp.build(edited(NAME, { sliding_window_pattern = 2 }))
    assert.are.equal(13, m.layers[1].sub_layers[2]["repeat"])
    local types = {}
    for i = 1, 26 do types[i] = "full_attention" end
    m = lmp.build(edited(NAME, { layer_types = types }))
    assert.are.equal(26, m.layers[1].sub_layers[2]["repeat"])
    assert.are.equal("full_attention: layers 0, 1, 2, 3, 4, 5, 6, 7, ...", m.layers[1].sub_layers[2].note)
  end)

  it("adds the final soft-cap when the config sets it", function ()
    local m = lmp.build(edited(NAME, { final_logit_softcapping = 30.0 }))
    assert.are.equal(M .. "logit_softcapping", m.layers[3].class)
  end)

  it("computes two rotary tables a forward, Gemma3TextModel.rotary_emb and rotary_emb_local", function ()
    local r = lmp.analyze((lmp.load_config(R .. NAME)), { batch_size = 2, seq_len = 128 }, { depth = 2 })
    for _, name in ipairs({ "rotary_emb", "rotary_emb_local" }) do
      local rope = r:find("^model%." .. name .. "$")
      assert.are.equal(1, #rope, name)
      assert.are.equal(M .. "Gemma3RotaryEmbedding", rope[1].class)
      -- inv_freq @ position_ids: 2 * 2 * (256 / 2) * 128 = 65,536 = B * seq * head_dim
      assert.are.equal(65536, rope[1].matmul_flops)
    end
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { sliding_window_pattern = "6" })), "sliding_window_pattern: expected an integer")
    end)
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { hidden_size = h.REMOVE })), "hidden_size: missing")
    end)
  end)
end)
