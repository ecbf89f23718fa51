-- torch.topk: k passes of a max over each row (k comparisons an element); values and int64 indices out.
local lmp = require "lmp"

local NAME = "torch.topk"

describe(NAME, function ()
  -- Mixtral-8x7B routing over 2048 tokens: top 2 of 8 experts
  local route = { rows = 2048, width = 8, k = 2 }

  it("counts Mixtral's expert selection at 2048 tokens", function ()
    -- 2048 * 8 * 2 = 32,768
    assert.are.equal(32768, lmp.compute_flops(NAME, route))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, route))
    assert.are.equal(0, lmp.compute_params(NAME, route))
    local m = lmp.compute_memory(NAME, route)
    -- reads 2048*8*2 = 32,768; writes values 2048*2*2 = 8,192 + indices 2048*2*8 = 32,768 = 40,960
    assert.are.equal(32768, m.reads)
    assert.are.equal(40960, m.writes)
  end)

  it("has a free backward (a scatter of the kept gradients)", function ()
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, route))
  end)

  it("refuses k larger than the row", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { rows = 1, width = 2, k = 3 }) end, "k %(3%) is larger than width %(2%)")
  end)
end)
