-- transformers.activations.GELUActivation: nn.functional.gelu (erf form), 5 FLOPs per element.
local lmp = require "lmp"

local NAME = "transformers.activations.GELUActivation"

describe("transformers.activations.GELUActivation", function ()
  -- BERT-base intermediate activation: 512 tokens * 3072 = 1,572,864 elements
  local p = { numel = 1572864 }

  it("counts 5 FLOPs per element", function ()
    -- 1,572,864 * 5 = 7,864,320
    assert.are.equal(7864320, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads and writes numel activations", function ()
    local m = lmp.compute_memory(NAME, p)
    -- 1,572,864 * 2 B = 3,145,728
    assert.are.equal(3145728, m.reads)
    assert.are.equal(3145728, m.writes)
    -- 9 el * 4 bits = 4.5 B -> 5
    assert.are.equal(5, lmp.compute_memory(NAME, { numel = 9, a_bits = 4 }).writes)
  end)

  it("rejects a wrongly typed numel", function ()
    assert.has_error(function () lmp.compute_flops(NAME, { numel = true }) end)
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- erf GELU derivative: 1,572,864 * 11 = 17,301,504
    assert.are.same({ flops = 17301504, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.gelu = 11; an empty tensor: 0
    assert.are.same({ flops = 11, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
