-- The GPT-2 builder (lua/lmp/builders/gpt2.lua) on openai-community/gpt2: Conv1D projections,
-- learned positions (wpe), NewGELU, lm_head tied to transformer.wte.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local NAME = "openai-community--gpt2.json"
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model, inputs) return lmp.analyze(model, inputs or AT_128) end
local function edited(changes) return h.edited_config(NAME, changes) end
local build = h.build
local build_error = h.build_error
local function names(layers)
  local out = {}
  for _, l in ipairs(layers) do out[#out + 1] = l.name end
  return out
end

describe("gpt2 builder", function ()
  it("counts gpt2 exactly: 124,439,808", function ()
    -- n_embd 768, 12 layers, 12 heads of 64, n_inner null -> 3072, vocab 50257, 1024 positions
    -- wte 50257 * 768 = 38,597,376; wpe 1024 * 768 = 786,432
    -- per block: ln_1, ln_2 2 * 1,536 = 3,072; c_attn 768 * 2304 + 2304 = 1,771,776;
    --   attn.c_proj 768 * 768 + 768 = 590,592; c_fc 768 * 3072 + 3072 = 2,362,368;
    --   mlp.c_proj 3072 * 768 + 768 = 2,360,064 -> 7,087,872; x 12 = 85,054,464
    -- ln_f 1,536; lm_head tied: 0 -> 124,439,808
    local r = analyze((lmp.load_config(R .. NAME)))
    assert.are.equal(124439808, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors GPT2LMHeadModel's tree", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.same({ "transformer", "lm_head" }, names(m.layers))
    assert.are.equal("transformer.wte", m.layers[2].weights_tied_to)
    assert.are.same({ "wte", "wpe", "add_position_embeds", "drop", "h", "ln_f" }, names(m.layers[1].sub_layers))
    local block = m.layers[1].sub_layers[5]
    assert.are.equal(12, block["repeat"])
    assert.are.same({ "ln_1", "attn", "residual_add_attn", "ln_2", "mlp", "residual_add_mlp" }, names(block.sub_layers))
    assert.are.same({ "c_attn", "layer_past", "scaled_dot_product_attention", "attn_dropout", "c_proj", "resid_dropout" },
      names(block.sub_layers[2].sub_layers))
    assert.are.equal("transformers.pytorch_utils.Conv1D", block.sub_layers[2].sub_layers[1].class)
    assert.are.equal(2304, block.sub_layers[2].sub_layers[1].parameters.nf)
    assert.are.equal("transformers.activations.NewGELUActivation", block.sub_layers[5].sub_layers[2].class)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Conv1D weights 12 * (768*2304 + 768*768 + 768*3072 + 3072*768) = 12 * 7,077,888 = 84,934,656
    -- + the tied lm_head's full product 768 * 50257 = 38,597,376 -> 123,532,032; x 2 * 128 = 31,624,200,192
    -- attention 4 * 12 layers * 12 heads * 64 * 128 * 128 = 603,979,776 -> 32,228,179,968
    assert.are.equal(32228179968, analyze((lmp.load_config(R .. NAME))).totals.matmul_flops)
  end)

  it("agrees with the hand-written models/gpt2.json", function ()
    -- the bundled file predates the builder, which adds the KV-cache write (no arithmetic):
    -- same parameters, matmul FLOPs and FLOPs, in prefill and in decode
    local built = (lmp.load_config(R .. NAME))
    for _, inputs in ipairs({ { seq_len = 300 }, { seq_len = 1, kv_len = 700, batch_size = 3 } }) do
      local a, b = analyze(built, inputs), analyze("models/gpt2.json", inputs)
      for _, k in ipairs({ "params", "matmul_flops", "flops" }) do
        assert.are.equal(b.totals[k], a.totals[k], k)
      end
    end
  end)

  it("takes n_inner and the activation from the config", function ()
    -- n_inner 1000: c_fc 768 * 1000 + 1000 = 769,000 and c_proj 1000 * 768 + 768 = 768,768 replace
    -- 2,362,368 + 2,360,064 = 4,722,432 in each of 12 blocks: 124,439,808 - 12 * (4,722,432 - 1,537,768)
    --   = 124,439,808 - 38,215,968 = 86,223,840
    local m = lmp.build(edited({ n_inner = 1000, activation_function = "relu" }))
    assert.are.equal("torch.nn.modules.activation.ReLU", m.layers[1].sub_layers[5].sub_layers[5].sub_layers[2].class)
    assert.are.equal(86223840, analyze(build(edited({ n_inner = 1000 }))).totals.params)
  end)

  it("counts the untied lm_head when tie_word_embeddings is false", function ()
    -- + 768 * 50257 = 38,597,376 -> 163,037,184
    assert.are.equal(163037184, analyze(build(edited({ tie_word_embeddings = false }))).totals.params)
  end)

  describe("refuses, naming the field,", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited({ n_embd = REMOVE })), "n_embd: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited({ n_layer = "12" })), 'n_layer: expected an integer, got "12"')
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited({ vocab_size = 1 << 40 })), "vocab_size: .* is beyond")
    end)
    it("heads that do not divide the width", function ()
      assert.error_matches(build_error(edited({ n_head = 7 })), "n_embd: 768 is not a multiple of n_head")
    end)
    it("cross-attention blocks", function ()
      assert.error_matches(build_error(edited({ add_cross_attention = true })), "add_cross_attention: .* not supported")
    end)
  end)
end)
