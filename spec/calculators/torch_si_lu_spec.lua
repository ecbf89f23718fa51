-- torch.nn.modules.activation.SiLU: x * sigmoid(x), 4 FLOPs per element; figures worked by hand.
local lmp = require "lmp"

local NAME = "torch.nn.modules.activation.SiLU"

describe("torch.nn.modules.activation.SiLU", function ()
  -- Llama-2-7B act_fn on gate_proj's output at N = 2048: 2048*11008 = 22,544,384 elements
  local p = { numel = 22544384 }

  it("counts 4 FLOPs per element", function ()
    -- 22,544,384 * 4 = 90,177,536
    assert.are.equal(90177536, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads and writes numel activations", function ()
    local m = lmp.compute_memory(NAME, p)
    -- 22,544,384 * 2 B = 45,088,768
    assert.are.equal(45088768, m.reads)
    assert.are.equal(45088768, m.writes)
    local m8 = lmp.compute_memory(NAME, { numel = 22544384, a_bits = 8 })
    assert.are.equal(22544384, m8.reads)
  end)

  it("rejects a numel of the wrong type", function ()
    assert.has_error(function () lmp.compute_flops(NAME, { numel = "many" }) end)
  end)
  it("prices the backward pass at BACKWARD_COST per element, no matrix product", function ()
    -- sigmoid recomputed (3) + g*s*(1 + x*(1 - s)) (5): 22,544,384 * 8 = 180,355,072
    assert.are.same({ flops = 180355072, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- one element: BACKWARD_COST.silu = 8; an empty tensor: 0
    assert.are.same({ flops = 8, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
  end)
end)
