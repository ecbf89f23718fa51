-- transformers build_alibi_tensor: BLOOM's (batch*heads, 1, keys) ALiBi bias, once per forward.
local lmp = require "lmp"

local NAME = "transformers.models.bloom.modeling_bloom.build_alibi_tensor"

describe("transformers.models.bloom.modeling_bloom.build_alibi_tensor", function ()
  -- bloom-560m: 16 heads, one sequence of 128 tokens
  local p = { batch_size = 1, key_len = 128, num_heads = 16 }

  it("counts the slopes, the mask's cumsum/-1/*mask and one multiply per output", function ()
    -- 16 + 3 * 128 + 16 * 128 = 16 + 384 + 2,048 = 2,448
    assert.are.equal(2448, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("reads the int64 mask and writes the bias", function ()
    local m = lmp.compute_memory(NAME, p)
    -- mask 128 * 8 = 1,024 B; bias 16 * 128 = 2,048 el * 2 B = 4,096 B
    assert.are.equal(1024, m.reads)
    assert.are.equal(4096, m.writes)
    assert.are.equal(1024, m.intermediates)
  end)

  it("grows with the cache in decode and has no backward", function ()
    -- 2 sequences over 1000 keys: 16 + 3 * 2000 + 16 * 2000 = 16 + 6,000 + 32,000 = 38,016
    assert.are.equal(38016, lmp.compute_flops(NAME, { batch_size = 2, key_len = 1000, num_heads = 16 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
  end)

  it("answers to its db key and rejects zero heads", function ()
    -- 1 + 3 * 1 + 1 = 5
    assert.are.equal(5, lmp.compute_flops("transformers_build_alibi_tensor", { batch_size = 1, key_len = 1, num_heads = 1 }))
    assert.has_error(function () lmp.compute_flops(NAME, { batch_size = 1, key_len = 1, num_heads = 0 }) end)
  end)
end)
