-- The Granite builder (lua/lmp/builders/granite.lua) on granite-3.1-2b-instruct: Llama-shaped,
-- tied, with the embedding, residual and logits multipliers as elementwise layers (the
-- attention multiplier replaces the softmax scale and costs nothing). Every expected figure
-- is derived by hand here.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "ibm-granite--granite-3.1-2b-instruct.json"

local function analyze(depth) return lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = depth }) end

describe("granite builder", function ()
  it("counts granite-3.1-2b exactly", function ()
    -- hidden 2048, 32 heads of 64, 8 KV heads (512), intermediate 8192, 40 layers, vocab 49155
    -- per layer: q, o 2 * 2048^2 = 8,388,608; k, v 2 * 2048 * 512 = 2,097,152;
    --   gate/up/down 3 * 2048 * 8192 = 50,331,648; two norms 4,096 -> 60,821,504; x 40 = 2,432,860,160
    -- embed_tokens 49155 * 2048 = 100,669,440 (lm_head tied to it); norm 2,048
    -- total 2,533,531,648
    local r = analyze()
    assert.are.equal(2533531648, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 40 * (8,388,608 + 2,097,152 + 50,331,648) + lm_head 2048 * 49155
    --   = 40 * 60,817,408 + 100,669,440 = 2,533,365,760; x 2 * 128 = 648,541,634,560
    -- attention: 4 * 40 * 32 * 128 * 128 * 64 = 5,368,709,120; rotary_emb's inv_freq @ position_ids, once a forward: 128 * 64 = 8,192
    -- total 653,910,351,872
    assert.are.equal(653910351872, analyze().totals.matmul_flops)
  end)

  it("prices one decoder layer by hand, two residual multiplies included", function ()
    -- 128 tokens: q, o 2 * 2 * 128 * 2048^2 = 2,147,483,648; k, v 2 * 2 * 128 * 2048 * 512 = 536,870,912;
    --   rotary 3 * 128 * 64 * 40 = 983,040; sdpa 4 * 32 * 128^2 * 64 + 32 * 128^2 * 7 = 137,887,744;
    --   MLP 3 * 2 * 128 * 2048 * 8192 + silu and mul 128 * 8192 * 5 = 12,890,144,768;
    --   norms 2 * 128 * 2048 * 4 = 2,097,152; residual_multiplier and residual adds 4 * 128 * 2048 = 1,048,576
    -- total 15,716,515,840
    local layers = analyze(2):find("^model%.layers$")[1]
    assert.are.equal(15716515840 * 40, layers.flops)
  end)

  it("multiplies the embeddings and divides the logits once a value", function ()
    local r = analyze(2)
    -- 128 tokens * 2048 = 262,144 multiplies; 128 * 49155 logits = 6,291,840 divisions
    assert.are.equal(262144, r:find("embedding_multiplier$")[1].flops)
    assert.are.equal(6291840, r:find("^logits_scaling$")[1].flops)
  end)

  it("divides only the logits lm_head computes: generate's prefill keeps the last position's", function ()
    local r = lmp.generate(lmp.load_config(R .. NAME), { prompt_len = 128, new_tokens = 1, batch_size = 3 })
    -- logits_to_keep=1: 3 sequences * 1 position * 49155 = 147,465 logits, as many divisions
    assert.are.equal(147465, r:find("^logits_scaling$")[1].flops)
    assert.are.equal(2 * 3 * 2048 * 49155, r:find("^lm_head$")[1].matmul_flops) -- 603,967,680
  end)

  it("refuses a multiplier that is not a number", function ()
    assert.error_matches(build_error(edited(NAME, { residual_multiplier = "0.22" })), "residual_multiplier: expected a number")
  end)
end)
