-- torch.nn.modules.activation.Sigmoid: 1 / (1 + exp(-x)), 3 FLOPs per element (exp, add, divide).
local lmp = require "lmp"

local NAME = "torch.nn.modules.activation.Sigmoid"

describe("torch.nn.modules.activation.Sigmoid", function ()
  it("counts 3 FLOPs per element, no matrix product, no parameters", function ()
    -- Qwen2-MoE's shared_expert_gate output at 2048 tokens: 2,048 elements * 3 = 6,144
    assert.are.equal(6144, lmp.compute_flops(NAME, { numel = 2048 }))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, { numel = 2048 }))
    assert.are.equal(0, lmp.compute_params(NAME, { numel = 2048 }))
  end)

  it("reads and writes numel activations", function ()
    -- 2,048 * 2 B = 4,096 each way
    local m = lmp.compute_memory(NAME, { numel = 2048 })
    assert.are.same({ 4096, 4096 }, { m.reads, m.writes })
  end)

  it("prices the backward pass g * y * (1 - y) at 3 per element", function ()
    assert.are.same({ flops = 6144, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 2048 }))
  end)
end)
