-- transformers BloomGelu: the tanh GELU of BloomMLP, 9 FLOPs per element (19 backward).
local lmp = require "lmp"

local NAME = "transformers.models.bloom.modeling_bloom.BloomGelu"

describe("transformers.models.bloom.modeling_bloom.BloomGelu", function ()
  -- bloom-560m MLP activation at 128 tokens: 128 * 4096 = 524,288 elements
  local p = { numel = 524288 }

  it("counts 9 FLOPs per element, no product, no weights", function ()
    -- 524,288 * 9 = 4,718,592
    assert.are.equal(4718592, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads and writes numel activations, rounded up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, p)
    -- 524,288 * 2 B = 1,048,576
    assert.are.equal(1048576, m.reads)
    assert.are.equal(1048576, m.writes)
    assert.are.equal(0, m.intermediates)
    -- 7 el * 4 bits = 3.5 B -> 4
    assert.are.equal(4, lmp.compute_memory(NAME, { numel = 7, a_bits = 4 }).writes)
  end)

  it("prices the backward pass at 19 FLOPs per element", function ()
    -- 524,288 * 19 = 9,961,472
    assert.are.same({ flops = 9961472, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
  end)

  it("answers to its db key and rejects a missing numel", function ()
    -- 3 * 9 = 27
    assert.are.equal(27, lmp.compute_flops("transformers_BloomGelu", { numel = 3 }))
    assert.error_matches(function () lmp.compute_flops(NAME, {}) end, "numel")
  end)
end)
