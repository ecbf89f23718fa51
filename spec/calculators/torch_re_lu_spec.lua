-- torch.nn.modules.activation.ReLU: 1 FLOP per element; figures worked by hand.
local lmp = require "lmp"

local NAME = "torch.nn.modules.activation.ReLU"

describe("torch.nn.modules.activation.ReLU", function ()
  -- an MLP activation over 2048 tokens of 11008 features: 2048*11008 = 22,544,384 elements
  local p = { numel = 22544384 }

  it("counts one FLOP per element and no weights", function ()
    assert.are.equal(22544384, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads and writes numel activations", function ()
    local m = lmp.compute_memory(NAME, p)
    -- 22,544,384 * 2 B = 45,088,768
    assert.are.equal(45088768, m.reads)
    assert.are.equal(45088768, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("rounds an odd 4-bit count up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, { numel = 7, a_bits = 4 })
    -- 7 el * 4 bits = 3.5 B -> 4
    assert.are.equal(4, m.reads)
    assert.are.equal(4, m.writes)
  end)

  it("rejects a missing numel", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { a_bits = 16 }) end, "numel")
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- g where x > 0: 22,544,384 * 1 = 22,544,384
    assert.are.same({ flops = 22544384, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.relu = 1; an empty tensor: 0
    assert.are.same({ flops = 1, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
