-- torch.mul: a * b, 1 FLOP per element, two inputs read and one output written.
local lmp = require "lmp"

local NAME = "torch.mul"

describe("torch.mul", function ()
  -- SwiGLU's act(gate) * up in Llama-2-7B at 2048 tokens: 2048*11008 = 22,544,384 elements
  local p = { numel = 22544384 }

  it("counts one FLOP per element", function ()
    assert.are.equal(22544384, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads both operands and writes the product", function ()
    local m = lmp.compute_memory(NAME, p)
    -- each operand 22,544,384 * 2 B = 45,088,768; two = 90,177,536
    assert.are.equal(90177536, m.reads)
    assert.are.equal(45088768, m.writes)
  end)

  it("prices 8-bit activations", function ()
    local m = lmp.compute_memory(NAME, { numel = 1001, a_bits = 8 })
    -- 2 * 1,001 = 2,002 read, 1,001 written
    assert.are.equal(2002, m.reads)
    assert.are.equal(1001, m.writes)
  end)

  it("rejects a numel of the wrong type", function ()
    assert.has_error(function () lmp.compute_flops(NAME, { numel = 1.5 }) end)
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- g*b and g*a: 22,544,384 * 2 = 45,088,768
    assert.are.same({ flops = 45088768, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.mul = 2; an empty tensor: 0
    assert.are.same({ flops = 2, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
