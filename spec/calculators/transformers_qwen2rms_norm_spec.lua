-- transformers Qwen2RMSNorm: LlamaRMSNorm's math, 4 FLOPs an element (rmsnorm 3 + weight 1); figures by hand.
local lmp = require "lmp"

local NAME = "transformers.models.qwen2.modeling_qwen2.Qwen2RMSNorm"

describe(NAME, function ()
  local norm = { N = 2048, hidden_size = 3584 }  -- a Qwen2-7B input_layernorm over 2048 tokens

  it("counts a Qwen2-7B layer norm at N=2048", function ()
    -- 2048*3584 = 7,340,032 elements * 4 = 29,360,128
    assert.are.equal(29360128, lmp.compute_flops(NAME, norm))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, norm))
    assert.are.equal(3584, lmp.compute_params(NAME, norm))
    local m = lmp.compute_memory(NAME, norm)
    -- input 7,340,032*2 = 14,680,064; weight 3584*2 = 7,168; sum 14,687,232
    assert.are.equal(14687232, m.reads)
    assert.are.equal(14680064, m.writes)
    assert.are.equal(7168, m.weights)
    assert.are.equal(0, m.intermediates)
  end)

  it("prices the backward pass: input gradient 6 + weight gradient 2 an element", function ()
    -- 7,340,032 * 8 = 58,720,256
    assert.are.same({ flops = 58720256, matmul_flops = 0 }, lmp.compute_backward(NAME, norm))
  end)

  it("answers to its db key and rounds 4-bit counts up", function ()
    -- 1*8*4 = 32
    assert.are.equal(32, lmp.compute_flops("transformers_Qwen2RMSNorm", { N = 1, hidden_size = 8 }))
    -- 3 elements * 4 bits = 1.5 B -> 2, twice (input, weight)
    assert.are.equal(4, lmp.compute_memory(NAME, { N = 1, hidden_size = 3, a_bits = 4, w_bits = 4 }).reads)
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { N = 2048 }) end, "hidden_size")
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, hidden_size = 3584 }
    -- still 3584 parameters; input 0*3584 = 0 el, the weight not read; output 0 el
    assert.are.equal(3584, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
