-- torch.nn.modules.activation.Tanh: one transcendental, 1 FLOP per element.
local lmp = require "lmp"

local NAME = "torch.nn.modules.activation.Tanh"

describe("torch.nn.modules.activation.Tanh", function ()
  it("counts 1 FLOP per element", function ()
    -- BERT pooler: 8 sequences * 768 = 6,144 elements
    assert.are.equal(6144, lmp.compute_flops(NAME, { numel = 6144 }))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, { numel = 6144 }))
    assert.are.equal(0, lmp.compute_params(NAME, { numel = 6144 }))
  end)

  it("reads and writes numel activations", function ()
    local m = lmp.compute_memory(NAME, { numel = 6144 })
    -- 6,144 * 2 B = 12,288
    assert.are.equal(12288, m.reads)
    assert.are.equal(12288, m.writes)
    local m4 = lmp.compute_memory(NAME, { numel = 3, a_bits = 4 })
    -- 3 el * 4 bits = 1.5 B -> 2
    assert.are.equal(2, m4.writes)
  end)

  it("rejects a missing numel", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, {}) end, "numel")
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- g*(1 - y^2): BERT pooler, 6,144 * 3 = 18,432
    assert.are.same({ flops = 18432, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 6144 }))
    -- one element: BACKWARD_COST.tanh = 3; an empty tensor: 0
    assert.are.same({ flops = 3, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
