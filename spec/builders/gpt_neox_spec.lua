-- The GPT-NeoX builder (lua/lmp/builders/gpt_neox.lua) on EleutherAI/pythia-160m: fused
-- query_key_value with bias, partial rotary (rotary_pct 0.25), parallel residual, untied embed_out.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local NAME = "EleutherAI--pythia-160m.json"
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

describe("gpt_neox builder", function ()
  it("counts pythia-160m exactly: 162,322,944", function ()
    -- hidden 768, 12 layers, 12 heads of 64, intermediate 3072, vocab 50304, untied
    -- embed_in 50304 * 768 = 38,633,472; embed_out the same 38,633,472
    -- per layer: input_layernorm, post_attention_layernorm 2 * 1,536 = 3,072;
    --   query_key_value 768 * 2304 + 2304 = 1,771,776; dense 768 * 768 + 768 = 590,592;
    --   dense_h_to_4h 768 * 3072 + 3072 = 2,362,368; dense_4h_to_h 3072 * 768 + 768 = 2,360,064
    --   -> 7,087,872; x 12 = 85,054,464; final_layer_norm 1,536
    -- non-embedding 85,056,000 (the published figure); total 162,322,944
    local r = analyze((lmp.load_config(R .. NAME)))
    assert.are.equal(162322944, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("mirrors GPTNeoXForCausalLM's tree, rotating 16 of each head's 64 values", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.same({ "gpt_neox", "embed_out" }, names(m.layers))
    assert.is_nil(m.layers[2].weights_tied_to)
    local layer = m.layers[1].sub_layers[3]
    assert.are.equal("transformers.models.gpt_neox.modeling_gpt_neox.GPTNeoXLayer", layer.class)
    assert.are.same({ "input_layernorm", "attention", "post_attention_dropout", "post_attention_layernorm", "mlp",
      "post_mlp_dropout", "residual_add_mlp_attn", "residual_add" }, names(layer.sub_layers))
    local attn = layer.sub_layers[2].sub_layers
    assert.are.same({ "query_key_value", "apply_rotary_pos_emb", "cat", "layer_past", "scaled_dot_product_attention",
      "attention_dropout", "dense" }, names(attn))
    -- int(64 * 0.25) = 16
    assert.are.equal(16, attn[2].parameters.head_dim)
    assert.is_true(attn[1].parameters.bias)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights 12 * (768*2304 + 768*768 + 768*3072 + 3072*768) = 12 * 7,077,888 = 84,934,656
    -- + embed_out 768 * 50304 = 38,633,472 -> 123,568,128; x 2 * 128 = 31,633,440,768
    -- attention 4 * 12 layers * 12 heads * 64 * 128 * 128 = 603,979,776 -> 32,237,420,544
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 16 rotary values (int(64 * 0.25)) = 2,048 -> 32,237,422,592
    assert.are.equal(32237422592, analyze((lmp.load_config(R .. NAME))).totals.matmul_flops)
  end)

  it("prices the partial rotary at its width, then the concatenation", function ()
    -- the rotary layer: 3 FLOPs * 128 tokens * 16 values * (12 + 12) heads = 147,456 per layer
    local r = lmp.analyze((lmp.load_config(R .. NAME)), AT_128, { depth = 4 })
    local attn = r.tree[1].children[3].children[2].children
    assert.are.equal(147456, attn[2].flops)
    -- torch.cat copies q and k: 2 * 12 * 64 * 128 = 196,608 values * 2 B read and written, no FLOPs
    assert.are.equal(0, attn[3].flops)
    assert.are.equal(393216, attn[3].writes_bytes)
  end)

  it("builds the sequential residual when use_parallel_residual is false", function ()
    local layer = lmp.build(edited({ use_parallel_residual = false })).layers[1].sub_layers[3]
    assert.are.same({ "input_layernorm", "attention", "post_attention_dropout", "residual_add_attn",
      "post_attention_layernorm", "mlp", "post_mlp_dropout", "residual_add_mlp" }, names(layer.sub_layers))
  end)

  it("drops the concatenation for a full rotary and ties embed_out on request", function ()
    local m = lmp.build(edited({ rotary_pct = 1.0, tie_word_embeddings = true }))
    local attn = m.layers[1].sub_layers[3].sub_layers[2].sub_layers
    assert.are.equal(64, attn[2].parameters.head_dim)
    assert.are.equal("layer_past", attn[3].name)
    assert.are.equal("gpt_neox.embed_in", m.layers[2].weights_tied_to)
    -- 162,322,944 - 38,633,472 = 123,689,472
    assert.are.equal(123689472, analyze(build(edited({ tie_word_embeddings = true }))).totals.params)
  end)

  describe("refuses, naming the field,", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited({ intermediate_size = REMOVE })), "intermediate_size: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited({ use_parallel_residual = "yes" })),
        'use_parallel_residual: expected true or false, got "yes"')
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited({ num_hidden_layers = 1 << 30 })), "num_hidden_layers: .* is beyond")
    end)
    it("a rotary_pct outside (0, 1]", function ()
      assert.error_matches(build_error(edited({ rotary_pct = 1.5 })), "rotary_pct: expected a number in")
    end)
  end)

  it("bundles models/pythia-160m.json with the published count", function ()
    local r = analyze(lmp.load_model("models/pythia-160m.json"))
    assert.are.equal(162322944, r.totals.params)
    assert.are.equal(32237422592, r.totals.matmul_flops) -- as derived above
  end)
end)
