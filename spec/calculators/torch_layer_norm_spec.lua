-- torch.nn.modules.normalization.LayerNorm: 5 FLOPs per element, +1 weight, +1 bias; figures worked by hand.
local lmp = require "lmp"

local NAME = "torch.nn.modules.normalization.LayerNorm"

describe("torch.nn.modules.normalization.LayerNorm", function ()
  -- GPT-2 ln_1: d = 768 over 1024 tokens, weight and bias
  local ln = { N = 1024, normalized_shape = 768, elementwise_affine = true, bias = true }

  it("counts 7 FLOPs per element with weight and bias", function ()
    -- 1024*768 = 786,432 elements * (5 + 1 + 1) = 5,505,024
    assert.are.equal(5505024, lmp.compute_flops(NAME, ln))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, ln))
    -- weight 768 + bias 768 = 1,536
    assert.are.equal(1536, lmp.compute_params(NAME, ln))
  end)

  it("reads input and affine weights, writes the output", function ()
    local m = lmp.compute_memory(NAME, ln)
    -- input 786,432*2 = 1,572,864; weights 1,536*2 = 3,072; sum 1,575,936
    assert.are.equal(1575936, m.reads)
    assert.are.equal(1572864, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("drops the bias term when bias is off", function ()
    local p = { N = 1024, normalized_shape = 768, elementwise_affine = true, bias = false }
    -- 786,432 * (5 + 1) = 4,718,592
    assert.are.equal(4718592, lmp.compute_flops(NAME, p))
    assert.are.equal(768, lmp.compute_params(NAME, p))
  end)

  it("has no weights at all without elementwise_affine, whatever bias says", function ()
    local p = { N = 1024, normalized_shape = 768, elementwise_affine = false, bias = true }
    -- 786,432 * 5 = 3,932,160
    assert.are.equal(3932160, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
    -- input only: 786,432*2 = 1,572,864
    assert.are.equal(1572864, lmp.compute_memory(NAME, p).reads)
  end)

  it("rounds odd 4-bit counts up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, { N = 3, normalized_shape = 5, elementwise_affine = true, bias = false,
                                         a_bits = 4, w_bits = 4 })
    -- input 15 el * 4 bits = 7.5 B -> 8; weight 5 el * 4 bits = 2.5 B -> 3; 8 + 3 = 11
    assert.are.equal(11, m.reads)
    assert.are.equal(8, m.writes)
  end)

  it("rejects a missing or mistyped parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { N = 1, elementwise_affine = true, bias = true })
    end, "normalized_shape")
    assert.has_error(function ()
      lmp.compute_flops(NAME, { N = 1, normalized_shape = "768", elementwise_affine = true, bias = true })
    end)
  end)
  it("says which of its reads are weights", function ()
    -- weight and bias 1,536 * 2 B = 3,072 of the 1,575,936 B read
    assert.are.equal(3072, lmp.compute_memory(NAME, ln).weights)
    -- weight only, 5 el * 4 bits = 2.5 B -> 3
    assert.are.equal(3, lmp.compute_memory(NAME, { N = 3, normalized_shape = 5, elementwise_affine = true, bias = false,
                                                  a_bits = 4, w_bits = 4 }).weights)
    assert.are.equal(0, lmp.compute_memory(NAME, { N = 3, normalized_shape = 5, elementwise_affine = false, bias = true }).weights)
  end)

  it("prices the backward pass: input gradient 8, weight gradient 2, bias gradient 1 per element", function ()
    -- 786,432 elements * (8 + 2 + 1) = 8,650,752
    assert.are.same({ flops = 8650752, matmul_flops = 0 }, lmp.compute_backward(NAME, ln))
    -- no bias: 786,432 * (8 + 2) = 7,864,320
    assert.are.same({ flops = 7864320, matmul_flops = 0 },
      lmp.compute_backward(NAME, { N = 1024, normalized_shape = 768, elementwise_affine = true, bias = false }))
  end)

  it("drops the g*w multiply and the weight gradients without elementwise_affine", function ()
    -- 786,432 * (8 - 1) = 5,505,024
    assert.are.same({ flops = 5505024, matmul_flops = 0 },
      lmp.compute_backward(NAME, { N = 1024, normalized_shape = 768, elementwise_affine = false, bias = true }))
    assert.are.same({ flops = 0, matmul_flops = 0 },
      lmp.compute_backward(NAME, { N = 0, normalized_shape = 768, elementwise_affine = true, bias = true }))
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, normalized_shape = 768, elementwise_affine = true, bias = true }
    -- still 768 + 768 = 1,536 parameters; input 0*768 = 0 el, neither weight nor bias read; output 0 el
    assert.are.equal(1536, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
