-- The Gemma builder (lua/lmp/builders/gemma.lua) on gemma-2b: embeddings scaled by sqrt(hidden),
-- GemmaRMSNorm, 8 heads of 256 with one KV head (MQA), GeGLU with gelu_pytorch_tanh, tied lm_head.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model) return lmp.analyze(model, AT_128) end
local edited = h.edited_config
local build_error = h.build_error

local NAME = "google--gemma-2b.json"

describe("gemma builder", function ()
  it("counts gemma-2b exactly", function ()
    -- hidden 2048, 18 layers, 8 heads of 256 (8 * 256 = 2048), 1 KV head, intermediate 16384
    -- per layer: q, o 2 * 2048 * 2048 = 8,388,608; k, v 2 * 2048 * 256 = 1,048,576;
    --   gate/up/down 3 * 2048 * 16384 = 100,663,296; two GemmaRMSNorm 4,096: 110,104,576
    -- 18 layers 1,981,882,368; embed_tokens 256000 * 2048 = 524,288,000 (lm_head tied: none);
    -- norm 2,048 -> 2,506,172,416
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(2506172416, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("scales the embeddings, uses GemmaRMSNorm and gelu_pytorch_tanh, ties lm_head", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    local model = m.layers[1]
    assert.are.equal("normalizer", model.sub_layers[2].name)
    assert.are.equal("transformers.models.gemma.modeling_gemma.GemmaModel.normalizer", model.sub_layers[2].class)
    local layer = model.sub_layers[3]
    assert.are.equal("transformers.models.gemma.modeling_gemma.GemmaRMSNorm", layer.sub_layers[1].class)
    -- hidden_act "gelu" is ignored when hidden_activation is absent (transformers PR 29402)
    assert.are.equal("transformers.activations.PytorchGELUTanh", layer.sub_layers[5].sub_layers[2].class)
    assert.are.equal("model.embed_tokens", m.layers[2].weights_tied_to)
  end)

  it("takes hidden_activation when the config gives it", function ()
    local m = lmp.build(edited(NAME, { hidden_activation = "gelu" }))
    local act = m.layers[1].sub_layers[3].sub_layers[5].sub_layers[2]
    assert.are.equal("transformers.activations.GELUActivation", act.class)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 18 * (8,388,608 + 1,048,576 + 100,663,296) + lm_head 2048 * 256000
    --   = 18 * 110,100,480 + 524,288,000 = 2,506,096,640; x 2 * 128 = 641,560,739,840
    -- attention: 4 * 18 layers * 8 heads * 256 * 128 * 128 = 2,415,919,104
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 256 = 32,768
    -- total 643,976,691,712
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(643976691712, r.totals.matmul_flops)
  end)

  it("counts the embedding scale and the (1 + weight) adds in flops", function ()
    -- gemma-2b at 128 tokens, a rewrite with Llama's classes would lack exactly:
    --   the normalizer: 128 * 2048 = 262,144 multiplies
    --   (1 + weight) in each of 37 GemmaRMSNorm calls (2 per layer + the final norm): 37 * 2048 = 75,776
    --   and GeLU-tanh costs 9 an element where SiLU costs 4: 18 * 128 * 16384 * 5 = 188,743,680
    -- so flops - matmul_flops is the Llama-shaped elementwise work + 189,081,600
    local r = analyze(lmp.load_config(R .. NAME))
    local T, H, F, L = 128, 2048, 16384, 18
    -- the Llama-shaped elementwise work, per layer: two RMSNorms 2 * 4 * T * H; rotary 3 * T * (8 + 1) * 256;
    --   sdpa scale + softmax + mask 7 * 8 * T * T; SiLU 4 * T * F; mul T * F; two adds 2 * T * H;
    --   plus the final norm 4 * T * H and rotary_emb's cos, sin and two scalings 4 * T * 256
    local llama_like = L * (8 * T * H + 3 * T * 9 * 256 + 7 * 8 * T * T + 5 * T * F + 2 * T * H) + 4 * T * H + 4 * T * 256
    assert.are.equal(189081600, r.totals.flops - r.totals.matmul_flops - llama_like)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { intermediate_size = REMOVE })), "intermediate_size: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { head_dim = "256" })), "head_dim: expected an integer")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited(NAME, { head_dim = 1 << 30 })), "head_dim: .* is beyond")
    end)
    it("an unknown activation", function ()
      assert.error_matches(build_error(edited(NAME, { hidden_activation = "swiglu" })), "hidden_activation: \"swiglu\" is not supported")
    end)
  end)

  it("bundles models/gemma-2b.json with the published count", function ()
    local r = analyze(lmp.load_model("models/gemma-2b.json"))
    assert.are.equal(2506172416, r.totals.params)
  end)
end)
