-- transformers T5LayerNorm: RMSNorm without bias, 4 FLOPs per element (rmsnorm 3 + weight 1).
local lmp = require "lmp"

local NAME = "transformers.models.t5.modeling_t5.T5LayerNorm"

describe("transformers.models.t5.modeling_t5.T5LayerNorm", function ()
  -- t5-small layer_norm over 128 tokens of d_model 512
  local norm = { N = 128, hidden_size = 512 }

  it("counts 4 FLOPs per element and the weight as parameters", function ()
    -- 128 * 512 = 65,536 elements * 4 = 262,144
    assert.are.equal(262144, lmp.compute_flops(NAME, norm))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, norm))
    assert.are.equal(512, lmp.compute_params(NAME, norm))
  end)

  it("reads the rows and the weight, writes the rows", function ()
    local m = lmp.compute_memory(NAME, norm)
    -- rows 65,536 * 2 B = 131,072; weight 512 * 2 B = 1,024; sum 132,096
    assert.are.equal(132096, m.reads)
    assert.are.equal(131072, m.writes)
    assert.are.equal(0, m.intermediates)
    assert.are.equal(1024, m.weights)
    -- 4-bit: rows 3 * 5 = 15 el -> 7.5 B -> 8; weight 5 el -> 2.5 B -> 3; reads 11
    local odd = lmp.compute_memory(NAME, { N = 3, hidden_size = 5, a_bits = 4, w_bits = 4 })
    assert.are.equal(11, odd.reads)
    assert.are.equal(3, odd.weights)
  end)

  it("reads nothing for no rows (the encoder in a decode step does not run)", function ()
    local m = lmp.compute_memory(NAME, { N = 0, hidden_size = 512 })
    -- still 512 parameters; 0 FLOPs; input 0*512 = 0 el and N = 0 reads none of the weight: reads 0, weights 0
    assert.are.equal(512, lmp.compute_params(NAME, { N = 0, hidden_size = 512 }))
    assert.are.equal(0, lmp.compute_flops(NAME, { N = 0, hidden_size = 512 }))
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)

  it("prices the backward pass: 6 input + 2 weight gradient FLOPs per element", function ()
    -- 65,536 * 8 = 524,288
    assert.are.same({ flops = 524288, matmul_flops = 0 }, lmp.compute_backward(NAME, norm))
  end)

  it("answers to its db key and rejects a missing hidden_size", function ()
    -- 2 * 3 * 4 = 24
    assert.are.equal(24, lmp.compute_flops("transformers_T5LayerNorm", { N = 2, hidden_size = 3 }))
    assert.error_matches(function () lmp.compute_flops(NAME, { N = 1 }) end, "hidden_size")
  end)
end)
