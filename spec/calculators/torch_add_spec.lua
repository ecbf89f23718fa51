-- torch.add: a + b, 1 FLOP per element, two inputs read and one output written.
local lmp = require "lmp"

local NAME = "torch.add"

describe("torch.add", function ()
  -- a Llama-2-7B residual add at 2048 tokens: 2048*4096 = 8,388,608 elements
  local p = { numel = 8388608 }

  it("counts one FLOP per element", function ()
    assert.are.equal(8388608, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads both operands and writes the sum", function ()
    local m = lmp.compute_memory(NAME, p)
    -- each operand 8,388,608 * 2 B = 16,777,216; two of them = 33,554,432
    assert.are.equal(33554432, m.reads)
    assert.are.equal(16777216, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("rounds each 4-bit operand up separately", function ()
    local m = lmp.compute_memory(NAME, { numel = 5, a_bits = 4 })
    -- one operand 5 el * 4 bits = 2.5 B -> 3; two operands 6 (not ceil(5) = 5)
    assert.are.equal(6, m.reads)
    assert.are.equal(3, m.writes)
  end)

  it("answers to its db key", function ()
    assert.are.equal(42, lmp.compute_flops("torch_add", { numel = 42 }))
  end)

  it("rejects a missing numel", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { a_bits = 16 }) end, "numel")
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- the forked residual's two gradients are summed: 8,388,608 * 1 = 8,388,608
    assert.are.same({ flops = 8388608, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.add = 1; an empty tensor: 0
    assert.are.same({ flops = 1, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
