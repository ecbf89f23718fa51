-- torch.cat: a copy; no FLOPs, reads and writes every element once.
local lmp = require "lmp"

local NAME = "torch.cat"

describe(NAME, function ()
  -- phi-2 q and k of 128 tokens rejoined: 128 * (32 + 32) * 80 = 655,360 values
  local cat = { numel = 655360 }

  it("counts phi-2's rotary rejoin at 128 tokens", function ()
    assert.are.equal(0, lmp.compute_flops(NAME, cat))
    assert.are.equal(0, lmp.compute_params(NAME, cat))
    local m = lmp.compute_memory(NAME, cat)
    -- 655,360 * 2 = 1,310,720 each way
    assert.are.equal(1310720, m.reads)
    assert.are.equal(1310720, m.writes)
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, cat))
  end)
end)
