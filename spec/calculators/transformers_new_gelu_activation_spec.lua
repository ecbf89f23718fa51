-- transformers.activations.NewGELUActivation: the tanh GELU, 9 FLOPs per element.
local lmp = require "lmp"

local NAME = "transformers.activations.NewGELUActivation"

describe("transformers.activations.NewGELUActivation", function ()
  -- GPT-2 MLP activation: 1024 tokens * 3072 = 3,145,728 elements
  local p = { numel = 3145728 }

  it("counts 9 FLOPs per element", function ()
    -- 3,145,728 * 9 = 28,311,552
    assert.are.equal(28311552, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads and writes numel activations", function ()
    local m = lmp.compute_memory(NAME, p)
    -- 3,145,728 * 2 B = 6,291,456
    assert.are.equal(6291456, m.reads)
    assert.are.equal(6291456, m.writes)
    -- 5 el * 4 bits = 2.5 B -> 3
    assert.are.equal(3, lmp.compute_memory(NAME, { numel = 5, a_bits = 4 }).reads)
  end)

  it("answers to its db key", function ()
    -- 10 * 9 = 90
    assert.are.equal(90, lmp.compute_flops("transformers_NewGELUActivation", { numel = 10 }))
  end)

  it("rejects a missing numel", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, {}) end, "numel")
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- tanh GELU derivative: 3,145,728 * 19 = 59,768,832
    assert.are.same({ flops = 59768832, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.gelu_tanh = 19; an empty tensor: 0
    assert.are.same({ flops = 19, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
