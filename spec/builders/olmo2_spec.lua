-- The OLMo 2 builder (lua/lmp/builders/olmo2.lua) on OLMo-2-1124-7B: post-norms (no
-- input_layernorm), q_norm / k_norm over the whole projections. Every expected figure is
-- derived by hand here.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "allenai--OLMo-2-1124-7B.json"
local M = "transformers.models.olmo2.modeling_olmo2."

local function analyze(depth) return lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = depth }) end

describe("olmo2 builder", function ()
  it("counts OLMo-2-1124-7B exactly", function ()
    -- hidden 4096, 32 heads of 128 (no GQA), intermediate 11008, 32 layers, vocab 100352
    -- per layer: q, k, v, o 4 * 4096^2 = 67,108,864; q_norm, k_norm 2 * 4096 = 8,192;
    --   gate/up/down 3 * 4096 * 11008 = 135,266,304; post_attention / post_feedforward norms 8,192
    --   -> 202,391,552; x 32 = 6,476,529,664
    -- embed_tokens and lm_head (untied) 2 * 100352 * 4096 = 822,083,584; norm 4,096
    -- total 7,298,617,344
    local r = analyze()
    assert.are.equal(7298617344, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts OLMo-2-1124-13B at the Hub's published 13,716,198,400", function ()
    -- hidden 5120, 40 heads of 128, intermediate 13824, 40 layers
    -- per layer: 4 * 5120^2 = 104,857,600; q/k norms 10,240; MLP 3 * 5120 * 13824 = 212,336,640;
    --   post norms 10,240 -> 317,214,720; x 40 = 12,688,588,800
    -- embed_tokens and lm_head 2 * 100352 * 5120 = 1,027,604,480; norm 5,120 -> 13,716,198,400
    local big = edited(NAME, { hidden_size = 5120, intermediate_size = 13824, num_hidden_layers = 40,
                               num_attention_heads = 40, num_key_value_heads = 40 })
    assert.are.equal(13716198400, lmp.analyze(h.build(big), AT_128).totals.params)
  end)

  it("puts the norms after attention and MLP, and q/k norms over whole projections", function ()
    local layer = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2]
    local names = {}
    for _, l in ipairs(layer.sub_layers) do names[#names + 1] = l.name end
    assert.are.same({ "self_attn", "post_attention_layernorm", "residual_add_attn",
                      "mlp", "post_feedforward_layernorm", "residual_add_mlp" }, names)
    local q_norm = layer.sub_layers[1].sub_layers[4]
    assert.are.same({ "q_norm", M .. "Olmo2RMSNorm", 4096 }, { q_norm.name, q_norm.class, q_norm.parameters.hidden_size })
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 32 * (4 * 4096^2 + 3 * 4096 * 11008) + lm_head 4096 * 100352
    --   = 32 * 202,375,168 + 411,041,792 = 6,887,047,168; x 2 * 128 = 1,763,084,075,008
    -- attention: 4 * 32 * 32 * 128^3 = 8,589,934,592; rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 1,771,674,025,984
    assert.are.equal(1771674025984, analyze().totals.matmul_flops)
  end)

  it("prices one decoder layer by hand", function ()
    -- 128 tokens: q, k, v, o 4 * 2 * 128 * 4096^2 = 17,179,869,184; q_norm, k_norm, the two
    --   post norms 4 * 128 * 4096 * 4 = 8,388,608; rotary 3 * 128 * 128 * 64 = 3,145,728;
    --   sdpa 4 * 32 * 128^3 + 32 * 128^2 * 7 = 272,105,472;
    --   MLP 3 * 2 * 128 * 4096 * 11008 + silu and mul 128 * 11008 * 5 = 34,635,218,944;
    --   residual adds 2 * 128 * 4096 = 1,048,576
    -- total 52,099,776,512
    local layers = analyze(2):find("^model%.layers$")[1]
    assert.are.equal(52099776512 * 32, layers.flops)
  end)

  it("refuses a bad field, naming it", function ()
    assert.error_matches(build_error(edited(NAME, { num_key_value_heads = 5 })), "num_attention_heads: 32 is not a multiple of num_key_value_heads")
  end)
end)
