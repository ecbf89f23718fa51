-- transformers MambaRMSNormGated: weight * rmsnorm(y * silu(gate)), 9 FLOPs an element (silu 4, gating 1,
-- rmsnorm 3, weight 1); figures worked by hand.
local lmp = require "lmp"

local NAME = "transformers.models.mamba2.modeling_mamba2.MambaRMSNormGated"

describe(NAME, function ()
  -- a Mamba-Codestral-7B mixer's norm over 128 tokens of intermediate_size 8192
  local norm = { N = 128, hidden_size = 8192 }

  it("prices the gate, the norm and the weight", function ()
    -- 128 * 8192 = 1,048,576 el * 9 = 9,437,184
    assert.are.equal(9437184, lmp.compute_flops(NAME, norm))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, norm))
    assert.are.equal(8192, lmp.compute_params(NAME, norm))
    local m = lmp.compute_memory(NAME, norm)
    -- y and gate 2 * 1,048,576 * 2 B = 4,194,304; weight 8192 * 2 B = 16,384 -> 4,210,688
    assert.are.same({ 4210688, 16384, 2097152 }, { m.reads, m.weights, m.writes })
  end)

  it("prices the backward pass: 18 an element", function ()
    -- rmsnorm 6 + gating multiply 2 + silu 8 + weight gradient 2 = 18; * 1,048,576 = 18,874,368
    assert.are.same({ flops = 18874368, matmul_flops = 0 }, lmp.compute_backward(NAME, norm))
  end)
end)
