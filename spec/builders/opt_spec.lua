-- The OPT builder (lua/lmp/builders/opt.lua) on facebook/opt-125m: learned positions with an
-- offset of 2 (2050 rows), pre-norm layers, ReLU, biases everywhere, lm_head tied to embed_tokens.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local NAME = "facebook--opt-125m.json"
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

-- the OPT-350m shape: post-norm, a 512-wide embedding projected in and out
local OPT_350M = { hidden_size = 1024, ffn_dim = 4096, num_hidden_layers = 24, num_attention_heads = 16,
                   word_embed_proj_dim = 512, do_layer_norm_before = false }

describe("opt builder", function ()
  it("counts opt-125m exactly: 125,239,296", function ()
    -- hidden 768, ffn 3072, 12 layers, 12 heads of 64, vocab 50272, 2048 positions
    -- embed_tokens 50272 * 768 = 38,608,896; embed_positions (2048 + 2) * 768 = 1,574,400
    -- per layer: q_proj, k_proj, v_proj, out_proj 4 * (768 * 768 + 768) = 2,362,368;
    --   self_attn_layer_norm, final_layer_norm 2 * 1,536 = 3,072; fc1 768 * 3072 + 3072 = 2,362,368;
    --   fc2 3072 * 768 + 768 = 2,360,064 -> 7,087,872; x 12 = 85,054,464
    -- final_layer_norm 1,536; lm_head tied: 0 -> 125,239,296
    local r = analyze(reference())
    assert.are.equal(125239296, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors OPTForCausalLM's tree", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.same({ "model", "lm_head" }, names(m.layers))
    assert.are.equal("model.decoder.embed_tokens", m.layers[2].weights_tied_to)
    local decoder = m.layers[1].sub_layers[1]
    assert.are.same({ "embed_tokens", "embed_positions", "add_position_embeds", "layers", "final_layer_norm" },
      names(decoder.sub_layers))
    assert.are.equal(2050, decoder.sub_layers[2].parameters.num_embeddings)
    local layer = decoder.sub_layers[4]
    assert.are.same({ "self_attn_layer_norm", "self_attn", "residual_add_attn", "final_layer_norm", "fc1",
      "activation_fn", "fc2", "residual_add_mlp" }, names(layer.sub_layers))
    assert.are.same({ "q_proj", "scaling", "k_proj", "v_proj", "past_key_value", "scaled_dot_product_attention",
      "out_proj" }, names(layer.sub_layers[2].sub_layers))
    assert.are.equal("torch.nn.modules.activation.ReLU", layer.sub_layers[6].class)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights 12 * (4 * 768*768 + 768*3072 + 3072*768) = 12 * 7,077,888 = 84,934,656
    -- + the tied lm_head's product 768 * 50272 = 38,608,896 -> 123,543,552; x 2 * 128 = 31,627,149,312
    -- attention 4 * 12 layers * 12 heads * 64 * 128 * 128 = 603,979,776 -> 32,231,129,088
    assert.are.equal(32231129088, analyze(reference()).totals.matmul_flops)
  end)

  it("looks positions up from the whole mask in decode", function ()
    -- one token over 99 cached: cumsum, * mask, - 1 over 100 mask values, + 2 on one: 301 FLOPs
    local r = lmp.analyze(reference(), { seq_len = 1, kv_len = 99 }, { depth = 3 })
    local positions = r.tree[1].children[1].children[2]
    assert.are.equal("embed_positions", positions.name)
    assert.are.equal(301, positions.flops)
  end)

  it("builds the OPT-350m shape: post-norm, project_in/out, no final norm", function ()
    -- embed_tokens 50272 * 512 = 25,739,264; embed_positions 2050 * 1024 = 2,099,200;
    -- project_in 512 * 1024 = 524,288; project_out 1024 * 512 = 524,288 (no biases)
    -- per layer: attention 4 * (1024 * 1024 + 1024) = 4,198,400; two norms 2 * 2,048 = 4,096;
    --   fc1 1024 * 4096 + 4096 = 4,198,400; fc2 4096 * 1024 + 1024 = 4,195,328 -> 12,596,224;
    --   x 24 = 302,309,376; lm_head (512 -> 50272) tied -> 331,196,416
    local m = lmp.build(edited(OPT_350M))
    local decoder = m.layers[1].sub_layers[1]
    assert.are.same({ "embed_tokens", "embed_positions", "project_in", "add_position_embeds", "layers", "project_out" },
      names(decoder.sub_layers))
    assert.are.same({ "self_attn", "residual_add_attn", "self_attn_layer_norm", "fc1", "activation_fn", "fc2",
      "residual_add_mlp", "final_layer_norm" }, names(decoder.sub_layers[5].sub_layers))
    assert.are.equal(512, m.layers[2].parameters.in_features)
    assert.are.equal(331196416, analyze(build(edited(OPT_350M))).totals.params)
  end)

  describe("refuses, naming the field,", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited({ ffn_dim = REMOVE })), "ffn_dim: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited({ do_layer_norm_before = "true" })),
        'do_layer_norm_before: expected true or false, got "true"')
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited({ max_position_embeddings = 1 << 40 })),
        "max_position_embeddings: .* is beyond")
    end)
    it("an unknown activation", function ()
      assert.error_matches(build_error(edited({ activation_function = "swiglu" })),
        'activation_function: "swiglu" is not supported')
    end)
  end)

  it("bundles models/opt-125m.json with the published count", function ()
    local r = analyze(lmp.load_model("models/opt-125m.json"))
    assert.are.equal(125239296, r.totals.params)
    assert.are.equal(32231129088, r.totals.matmul_flops)
  end)
end)
