-- torch.div with a broadcast divisor: one division an element; reads the divisor values once.
local lmp = require "lmp"

local NAME = "torch.div"

describe(NAME, function ()
  local div = { numel = 4096, divisor_numel = 2048 }  -- 2048 tokens' top-2 weights / their sums

  it("counts the routing-weight normalisation at 2048 tokens", function ()
    assert.are.equal(4096, lmp.compute_flops(NAME, div))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, div))
    local m = lmp.compute_memory(NAME, div)
    -- reads 4,096*2 + 2,048*2 = 12,288; writes 4,096*2 = 8,192
    assert.are.equal(12288, m.reads)
    assert.are.equal(8192, m.writes)
  end)

  it("prices the backward pass: g / b and the reduced divisor gradient", function ()
    -- 4,096 * 4 = 16,384
    assert.are.same({ flops = 16384, matmul_flops = 0 }, lmp.compute_backward(NAME, div))
  end)

  it("refuses a divisor larger than the result", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { numel = 2, divisor_numel = 3 }) end, "divisor_numel")
  end)
end)
