-- transformers.pytorch_utils.Conv1D: addmm(bias, x, W), W of shape (nx, nf); always a bias.
local lmp = require "lmp"

local NAME = "transformers.pytorch_utils.Conv1D"

describe("transformers.pytorch_utils.Conv1D", function ()
  -- GPT-2 c_attn: 768 -> 2304 (q, k, v together) over 1024 tokens
  local c_attn = { N = 1024, nx = 768, nf = 2304 }

  it("counts the product as FlopCounterMode does, and the bias add on top", function ()
    -- 2*1024*768*2304 = 2048 * 1,769,472 = 3,623,878,656
    assert.are.equal(3623878656, lmp.compute_matmul_flops(NAME, c_attn))
    -- + 1024*2304 = 2,359,296 -> 3,626,237,952
    assert.are.equal(3626237952, lmp.compute_flops(NAME, c_attn))
  end)

  it("always counts the bias among the parameters", function ()
    -- 768*2304 + 2304 = 1,769,472 + 2,304 = 1,771,776
    assert.are.equal(1771776, lmp.compute_params(NAME, c_attn))
  end)

  it("reads input, weights and bias, writes the output", function ()
    local m = lmp.compute_memory(NAME, c_attn)
    -- input 1024*768*2 = 1,572,864; weights 1,771,776*2 = 3,543,552; sum 5,116,416
    assert.are.equal(5116416, m.reads)
    -- 1024*2304*2 = 4,718,592
    assert.are.equal(4718592, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("rounds odd 4-bit counts up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, { N = 1, nx = 3, nf = 3, w_bits = 4, a_bits = 4 })
    -- input 3 el * 4 bits = 1.5 B -> 2; weights 3*3 + 3 = 12 el -> 6 B; 2 + 6 = 8
    assert.are.equal(8, m.reads)
    -- output 3 el -> 2 B
    assert.are.equal(2, m.writes)
  end)

  it("answers to its db key", function ()
    -- 2*1*2*3 = 12, + 1*3 = 15
    assert.are.equal(15, lmp.compute_flops("transformers_Conv1D", { N = 1, nx = 2, nf = 3 }))
  end)

  it("rejects a missing or out-of-range parameter", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, { N = 1, nx = 768 }) end, "nf")
    assert.has_error(function () lmp.compute_flops(NAME, { N = 1, nx = 0, nf = 4 }) end)
  end)
  it("says which of its reads are weights", function ()
    -- c_attn: 1,771,776 weights (bias included) * 2 B = 3,543,552 of the 5,116,416 B read
    assert.are.equal(3543552, lmp.compute_memory(NAME, c_attn).weights)
    -- 3*3 + 3 = 12 el * 4 bits = 6 B
    assert.are.equal(6, lmp.compute_memory(NAME, { N = 1, nx = 3, nf = 3, w_bits = 4, a_bits = 4 }).weights)
  end)

  it("prices the backward pass like a Linear with a bias", function ()
    -- dX = dY W^T and dW = X^T dY: 2 * 2*1024*768*2304 = 7,247,757,312;
    -- db = column sums of dY, 1024*2304 = 2,359,296 -> 7,250,116,608
    assert.are.same({ flops = 7250116608, matmul_flops = 7247757312 }, lmp.compute_backward(NAME, c_attn))
    -- one row, nx = 2, nf = 3: 4*1*2*3 = 24, + 3 = 27
    assert.are.same({ flops = 27, matmul_flops = 24 }, lmp.compute_backward(NAME, { N = 1, nx = 2, nf = 3 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { N = 0, nx = 2, nf = 3 }))
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, nx = 768, nf = 2304 }
    -- still 768*2304 + 2304 = 1,771,776 parameters; input 0*768 = 0 el, none of them read; output 0*2304 = 0 el
    assert.are.equal(1771776, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
