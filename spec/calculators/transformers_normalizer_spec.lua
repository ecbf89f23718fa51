-- GemmaModel.forward's hidden_states * normalizer (sqrt(hidden_size)): one multiply an element.
local lmp = require "lmp"

local NAME = "transformers.models.gemma.modeling_gemma.GemmaModel.normalizer"

describe(NAME, function ()
  -- gemma-2b embeddings of 2048 tokens: 2048 * 2048 = 4,194,304 values
  local scale = { numel = 4194304 }

  it("counts the gemma-2b embedding scale at 2048 tokens", function ()
    assert.are.equal(4194304, lmp.compute_flops(NAME, scale))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, scale))
    assert.are.equal(0, lmp.compute_params(NAME, scale))
    local m = lmp.compute_memory(NAME, scale)
    -- embeddings 4,194,304 * 2 = 8,388,608 + the 2-byte scalar = 8,388,610
    assert.are.equal(8388610, m.reads)
    assert.are.equal(8388608, m.writes)
  end)

  it("prices the backward pass: g * normalizer", function ()
    assert.are.same({ flops = 4194304, matmul_flops = 0 }, lmp.compute_backward(NAME, scale))
  end)

  it("answers to its db key", function ()
    assert.are.equal(7, lmp.compute_flops("transformers_normalizer", { numel = 7 }))
  end)
end)
