-- transformers T5Attention._relative_position_bucket: key - query, then its log-spaced bucket.
local lmp = require "lmp"

local NAME = "transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket"

describe("transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket", function ()
  it("counts 14 ops per pair in the encoder (bidirectional)", function ()
    -- 128 x 128 pairs = 16,384 * (1 subtraction + 13) = 229,376
    local p = { q_len = 128, key_len = 128, bidirectional = true }
    assert.are.equal(229376, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)

  it("counts 12 ops per pair in the decoder (causal)", function ()
    -- one new token over 10 cached: 1 x 11 pairs * (1 + 11) = 132
    assert.are.equal(132, lmp.compute_flops(NAME, { q_len = 1, key_len = 11, bidirectional = false }))
  end)

  it("reads int64 positions, writes int64 bucket ids", function ()
    local m = lmp.compute_memory(NAME, { q_len = 128, key_len = 128, bidirectional = true })
    -- (128 + 128) * 8 = 2,048; 16,384 * 8 = 131,072 written and as the relative_position temporary
    assert.are.equal(2048, m.reads)
    assert.are.equal(131072, m.writes)
    assert.are.equal(131072, m.intermediates)
  end)

  it("has no backward and answers to its db key", function ()
    assert.are.same({ flops = 0, matmul_flops = 0 },
      lmp.compute_backward(NAME, { q_len = 2, key_len = 3, bidirectional = true }))
    -- 2 * 3 * 14 = 84
    assert.are.equal(84, lmp.compute_flops("transformers__relative_position_bucket",
      { q_len = 2, key_len = 3, bidirectional = true }))
    assert.error_matches(function () lmp.compute_flops(NAME, { q_len = 1, bidirectional = true }) end, "key_len")
  end)
end)
