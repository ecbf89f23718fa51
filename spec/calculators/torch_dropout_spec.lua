-- torch.nn.modules.dropout.Dropout: the identity at inference, so everything is zero.
local lmp = require "lmp"

local NAME = "torch.nn.modules.dropout.Dropout"

describe("torch.nn.modules.dropout.Dropout", function ()
  it("costs nothing at inference", function ()
    local p = { numel = 1000000 }
    assert.are.equal(0, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("rejects a missing or negative numel", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, {}) end, "numel")
    assert.has_error(function () lmp.compute_flops(NAME, { numel = -1 }) end)
  end)
  it("has a free backward pass: the gradient is a select of the kept entries", function ()
    -- BACKWARD_COST.dropout = 0 per element, whatever the size
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 1000000 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0 }))
    assert.are.equal(0, lmp.compute_memory(NAME, { numel = 1000000 }).weights)
  end)
end)
