-- transformers MistralRMSNorm: LlamaRMSNorm's math, 4 FLOPs an element (rmsnorm 3 + weight 1); figures by hand.
local lmp = require "lmp"

local NAME = "transformers.models.mistral.modeling_mistral.MistralRMSNorm"

describe(NAME, function ()
  local norm = { N = 2048, hidden_size = 4096 }  -- a Mistral-7B input_layernorm over 2048 tokens

  it("counts a Mistral-7B layer norm at N=2048", function ()
    -- 2048*4096 = 8,388,608 elements * 4 = 33,554,432
    assert.are.equal(33554432, lmp.compute_flops(NAME, norm))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, norm))
    assert.are.equal(4096, lmp.compute_params(NAME, norm))
    local m = lmp.compute_memory(NAME, norm)
    -- input 8,388,608*2 = 16,777,216; weight 4096*2 = 8,192; sum 16,785,408
    assert.are.equal(16785408, m.reads)
    assert.are.equal(16777216, m.writes)
    assert.are.equal(8192, m.weights)
    assert.are.equal(0, m.intermediates)
  end)

  it("prices the backward pass: input gradient 6 + weight gradient 2 an element", function ()
    -- 8,388,608 * 8 = 67,108,864
    assert.are.same({ flops = 67108864, matmul_flops = 0 }, lmp.compute_backward(NAME, norm))
  end)

  it("answers to its db key and rounds 4-bit counts up", function ()
    -- 1*8*4 = 32
    assert.are.equal(32, lmp.compute_flops("transformers_MistralRMSNorm", { N = 1, hidden_size = 8 }))
    -- 3 elements * 4 bits = 1.5 B -> 2, twice (input, weight)
    assert.are.equal(4, lmp.compute_memory(NAME, { N = 1, hidden_size = 3, a_bits = 4, w_bits = 4 }).reads)
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { N = 2048 }) end, "hidden_size")
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, hidden_size = 4096 }
    -- still 4096 parameters; input 0*4096 = 0 el, the weight not read; output 0 el
    assert.are.equal(4096, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
