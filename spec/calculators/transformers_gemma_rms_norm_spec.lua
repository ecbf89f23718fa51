-- transformers GemmaRMSNorm: x_hat * (1 + weight): 4 FLOPs an element + hidden_size adds for (1 + weight).
local lmp = require "lmp"

local NAME = "transformers.models.gemma.modeling_gemma.GemmaRMSNorm"

describe(NAME, function ()
  local norm = { N = 2048, hidden_size = 2048 }  -- a gemma-2b input_layernorm over 2048 tokens

  it("counts a gemma-2b layer norm at N=2048", function ()
    -- 2048*2048 = 4,194,304 elements * 4 = 16,777,216; + 2048 for (1 + weight) = 16,779,264
    assert.are.equal(16779264, lmp.compute_flops(NAME, norm))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, norm))
    assert.are.equal(2048, lmp.compute_params(NAME, norm))
    local m = lmp.compute_memory(NAME, norm)
    -- input 4,194,304*2 = 8,388,608; weight 2048*2 = 4,096; sum 8,392,704
    assert.are.equal(8392704, m.reads)
    assert.are.equal(8388608, m.writes)
    assert.are.equal(4096, m.weights)
    assert.are.equal(0, m.intermediates)
  end)

  it("costs one add per weight more than LlamaRMSNorm on the same shape", function ()
    local llama = lmp.compute_flops("transformers.models.llama.modeling_llama.LlamaRMSNorm", norm)
    assert.are.equal(2048, lmp.compute_flops(NAME, norm) - llama)
  end)

  it("prices the backward pass: 8 an element", function ()
    -- 4,194,304 * 8 = 33,554,432
    assert.are.same({ flops = 33554432, matmul_flops = 0 }, lmp.compute_backward(NAME, norm))
  end)

  it("answers to its db key", function ()
    -- 1*8*4 + 8 = 40
    assert.are.equal(40, lmp.compute_flops("transformers_GemmaRMSNorm", { N = 1, hidden_size = 8 }))
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { hidden_size = 8 }) end, "'N'")
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, hidden_size = 2048 }
    -- still 2048 parameters; input 0*2048 = 0 el, the weight not read; output 0 el
    assert.are.equal(2048, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
