-- torch.nn.modules.activation.Softmax: max, subtract, exp, sum, divide = 5 FLOPs per element.
local lmp = require "lmp"

local NAME = "torch.nn.modules.activation.Softmax"

describe("torch.nn.modules.activation.Softmax", function ()
  -- attention probabilities of one Llama-2-7B layer at 2048 tokens: 32*2048*2048 = 134,217,728 scores
  local p = { numel = 134217728 }

  it("counts 5 FLOPs per element", function ()
    -- 134,217,728 * 5 = 671,088,640
    assert.are.equal(671088640, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads and writes numel activations", function ()
    local m = lmp.compute_memory(NAME, p)
    -- 134,217,728 * 2 B = 268,435,456
    assert.are.equal(268435456, m.reads)
    assert.are.equal(268435456, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("rejects a negative numel", function ()
    assert.has_error(function () lmp.compute_flops(NAME, { numel = -5 }) end)
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- y*(g - sum(g*y)): 134,217,728 * 4 = 536,870,912
    assert.are.same({ flops = 536870912, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.softmax = 4; an empty tensor: 0
    assert.are.same({ flops = 4, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
