-- The Phi builder (lua/lmp/builders/phi.lua) on phi-2: parallel attention and MLP on one
-- LayerNorm, partial rotary (0.4 of each head), biases on every Linear including lm_head.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model) return lmp.analyze(model, AT_128) end
local edited = h.edited_config
local build_error = h.build_error

local NAME = "microsoft--phi-2.json"

describe("phi builder", function ()
  it("counts phi-2 exactly", function ()
    -- hidden 2560, 32 heads of 80, intermediate 10240, 32 layers, vocab 51200
    -- per layer: q, k, v, dense 4 * (2560^2 + 2560) = 26,224,640;
    --   fc1 2560 * 10240 + 10240 = 26,224,640; fc2 10240 * 2560 + 2560 = 26,216,960;
    --   input_layernorm 2 * 2560 = 5,120: 78,671,360; x 32 = 2,517,483,520
    -- embed_tokens 51200 * 2560 = 131,072,000; final_layernorm 5,120;
    -- lm_head 2560 * 51200 + 51200 = 131,123,200 -> 2,779,683,840
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(2779683840, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("rotates only int(0.4 * 80) = 32 values of each head", function ()
    local attn = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[3].sub_layers[2]
    assert.are.equal("transformers.models.phi.modeling_phi.PhiAttention", attn.class)
    local rotary = attn.sub_layers[4]
    assert.are.equal("apply_rotary_pos_emb", rotary.name)
    assert.are.equal(32, rotary.parameters.head_dim)
    -- then torch.cat joins the rotated and pass-through parts of q and k: 64 heads of 80 a token
    assert.are.equal("torch.cat", attn.sub_layers[5].class)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 32 * (4 * 2560^2 + 2 * 2560 * 10240) + lm_head 2560 * 51200
    --   = 32 * 78,643,200 + 131,072,000 = 2,647,654,400; x 2 * 128 = 677,799,526,400
    -- attention: 4 * 32 layers * 32 heads * 80 * 128 * 128 = 5,368,709,120
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 32 rotary values = 4,096
    -- total 683,168,239,616
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(683168239616, r.totals.matmul_flops)
  end)

  it("prices the partial rotary at its width", function ()
    -- at 128 tokens one layer's rotary: 3 * 128 * 32 (rotary_dim) * (32 + 32 heads) = 786,432
    local r = lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = 4 })
    local layer = r.tree[1].children[3]
    local rotary = layer.children[2].children[4]
    assert.are.equal("apply_rotary_pos_emb", rotary.name)
    assert.are.equal(786432, rotary.flops)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { hidden_size = REMOVE })), "hidden_size: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { partial_rotary_factor = "0.4" })), "partial_rotary_factor: expected a number")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited(NAME, { intermediate_size = 1 << 40 })), "intermediate_size: .* is beyond")
    end)
    it("a rotary factor outside (0, 1]", function ()
      assert.error_matches(build_error(edited(NAME, { partial_rotary_factor = 1.5 })), "partial_rotary_factor: expected a number in")
    end)
  end)

  it("bundles models/phi-2.json with the published count", function ()
    local r = analyze(lmp.load_model("models/phi-2.json"))
    assert.are.equal(2779683840, r.totals.params)
  end)
end)
