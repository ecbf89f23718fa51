-- torch.nn.modules.normalization.RMSNorm: 3 FLOPs per element, +1 for the weight; figures worked by hand.
local lmp = require "lmp"

local NAME = "torch.nn.modules.normalization.RMSNorm"

describe("torch.nn.modules.normalization.RMSNorm", function ()
  local rms = { N = 2048, normalized_shape = 4096, elementwise_affine = true }

  it("counts 4 FLOPs per element with a weight", function ()
    -- 2048*4096 = 8,388,608 elements * (3 + 1) = 33,554,432
    assert.are.equal(33554432, lmp.compute_flops(NAME, rms))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, rms))
    assert.are.equal(4096, lmp.compute_params(NAME, rms))
  end)

  it("reads input and weight, writes the output", function ()
    local m = lmp.compute_memory(NAME, rms)
    -- input 8,388,608*2 = 16,777,216; weight 4096*2 = 8,192; sum 16,785,408
    assert.are.equal(16785408, m.reads)
    assert.are.equal(16777216, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("counts 3 FLOPs per element and no weights without elementwise_affine", function ()
    local p = { N = 2048, normalized_shape = 4096, elementwise_affine = false }
    -- 8,388,608 * 3 = 25,165,824
    assert.are.equal(25165824, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
    assert.are.equal(16777216, lmp.compute_memory(NAME, p).reads)
  end)

  it("uses the given bit widths, rounding up", function ()
    local m8 = lmp.compute_memory(NAME, { N = 7, normalized_shape = 3, elementwise_affine = true, a_bits = 8, w_bits = 8 })
    -- input 21 B + weight 3 B = 24
    assert.are.equal(24, m8.reads)
    assert.are.equal(21, m8.writes)
    local m4 = lmp.compute_memory(NAME, { N = 7, normalized_shape = 3, elementwise_affine = true, a_bits = 4, w_bits = 4 })
    -- input 21 el * 4 bits = 10.5 B -> 11; weight 3 el * 4 bits = 1.5 B -> 2; 11 + 2 = 13
    assert.are.equal(13, m4.reads)
    assert.are.equal(11, m4.writes)
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { N = 4, elementwise_affine = true })
    end, "normalized_shape")
  end)
  it("says which of its reads are weights", function ()
    -- 4096 * 2 B = 8,192 of the 16,785,408 B read
    assert.are.equal(8192, lmp.compute_memory(NAME, rms).weights)
    -- 3 el * 4 bits = 1.5 B -> 2
    assert.are.equal(2, lmp.compute_memory(NAME, { N = 7, normalized_shape = 3, elementwise_affine = true,
                                                  a_bits = 4, w_bits = 4 }).weights)
    assert.are.equal(0, lmp.compute_memory(NAME, { N = 7, normalized_shape = 3, elementwise_affine = false }).weights)
  end)

  it("prices the backward pass: input gradient 6, weight gradient 2 per element", function ()
    -- 8,388,608 elements * (6 + 2) = 67,108,864
    assert.are.same({ flops = 67108864, matmul_flops = 0 }, lmp.compute_backward(NAME, rms))
    -- no weight: no g*w and no dW, 8,388,608 * (6 - 1) = 41,943,040
    assert.are.same({ flops = 41943040, matmul_flops = 0 },
      lmp.compute_backward(NAME, { N = 2048, normalized_shape = 4096, elementwise_affine = false }))
    assert.are.same({ flops = 0, matmul_flops = 0 },
      lmp.compute_backward(NAME, { N = 0, normalized_shape = 4096, elementwise_affine = true }))
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, normalized_shape = 4096, elementwise_affine = true }
    -- still 4096 parameters; input 0*4096 = 0 el, the weight not read; output 0 el
    assert.are.equal(4096, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
