-- torch.sum over the last dim: one add an element read; one value written a row.
local lmp = require "lmp"

local NAME = "torch.sum"

describe(NAME, function ()
  local sums = { rows = 2048, width = 2 }  -- Mixtral's top-2 routing weights of 2048 tokens

  it("counts the routing-weight sums at 2048 tokens", function ()
    -- 2048 * 2 = 4,096
    assert.are.equal(4096, lmp.compute_flops(NAME, sums))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, sums))
    local m = lmp.compute_memory(NAME, sums)
    -- reads 4,096 * 2 = 8,192; writes 2048 * 2 = 4,096
    assert.are.equal(8192, m.reads)
    assert.are.equal(4096, m.writes)
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, sums))
  end)
end)
