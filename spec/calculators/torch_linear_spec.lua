-- torch.nn.modules.linear.Linear: y = x W^T + b; every figure below is worked out by hand.
local lmp = require "lmp"

local NAME = "torch.nn.modules.linear.Linear"

describe("torch.nn.modules.linear.Linear", function ()
  -- Llama-2-7B q_proj: 4096 -> 4096, no bias, 2048 tokens, 16-bit weights and activations
  local q_proj = { N = 2048, in_features = 4096, out_features = 4096, bias = false }

  it("counts a Llama-2-7B q_proj at N=2048", function ()
    -- 2*2048*4096*4096 = 4096 * 16,777,216 = 68,719,476,736
    assert.are.equal(68719476736, lmp.compute_matmul_flops(NAME, q_proj))
    -- no bias: the total is the product alone
    assert.are.equal(68719476736, lmp.compute_flops(NAME, q_proj))
    -- 4096*4096 = 16,777,216
    assert.are.equal(16777216, lmp.compute_params(NAME, q_proj))
  end)

  it("reads input and weights, writes the output at 16 bits by default", function ()
    local m = lmp.compute_memory(NAME, q_proj)
    -- input 2048*4096*2 B = 16,777,216; weights 16,777,216*2 B = 33,554,432; sum 50,331,648
    assert.are.equal(50331648, m.reads)
    -- output 2048*4096*2 B = 16,777,216
    assert.are.equal(16777216, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("adds the bias to params and flops but not to matmul flops", function ()
    -- GPT-2 style 768 -> 3072 with bias, N = 1024
    local p = { N = 1024, in_features = 768, out_features = 3072, bias = true }
    -- 2*1024*768*3072 = 2048 * 2,359,296 = 4,831,838,208
    assert.are.equal(4831838208, lmp.compute_matmul_flops(NAME, p))
    -- + bias add 1024*3072 = 3,145,728 -> 4,834,983,936
    assert.are.equal(4834983936, lmp.compute_flops(NAME, p))
    -- 768*3072 + 3072 = 2,359,296 + 3,072 = 2,362,368
    assert.are.equal(2362368, lmp.compute_params(NAME, p))
  end)

  it("rounds odd 4-bit element counts up to whole bytes", function ()
    local p = { N = 3, in_features = 5, out_features = 7, bias = true, w_bits = 4, a_bits = 4 }
    local m = lmp.compute_memory(NAME, p)
    -- input 3*5 = 15 el * 4 bits = 60 bits = 7.5 B -> 8; weights 5*7 + 7 = 42 el * 4 bits = 21 B; 8 + 21 = 29
    assert.are.equal(29, m.reads)
    -- output 3*7 = 21 el * 4 bits = 10.5 B -> 11
    assert.are.equal(11, m.writes)
  end)

  it("prices 8-bit weights separately from 16-bit activations", function ()
    -- Llama-2-7B gate_proj 4096 -> 11008 at N = 2048, int8 weights
    local p = { N = 2048, in_features = 4096, out_features = 11008, bias = false, w_bits = 8, a_bits = 16 }
    local m = lmp.compute_memory(NAME, p)
    -- input 2048*4096*2 = 16,777,216; weights 4096*11008*1 = 45,088,768; sum 61,865,984
    assert.are.equal(61865984, m.reads)
    -- output 2048*11008*2 = 45,088,768
    assert.are.equal(45088768, m.writes)
  end)

  it("answers to its db key too", function ()
    -- 2*1*2*3 = 12, + bias 1*3 = 15
    assert.are.equal(15, lmp.compute_flops("torch_Linear", { N = 1, in_features = 2, out_features = 3, bias = true }))
  end)

  it("lists its parameters", function ()
    local req = lmp.get_required_parameters(NAME)
    assert.is_not_nil(req.in_features)
    assert.is_not_nil(req.out_features)
    assert.is_not_nil(req.bias)
  end)

  it("rejects a missing parameter, naming it", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { N = 1, out_features = 3, bias = false })
    end, "in_features")
  end)

  it("rejects a parameter of the wrong type", function ()
    assert.has_error(function ()
      lmp.compute_flops(NAME, { N = 1, in_features = 2, out_features = 3, bias = 1 })
    end)
    assert.has_error(function ()
      lmp.compute_flops(NAME, { N = 1, in_features = 0, out_features = 3, bias = false })
    end)
  end)
  it("says which of its reads are weights", function ()
    -- q_proj: 4096*4096 = 16,777,216 weights * 2 B = 33,554,432 of the 50,331,648 B read
    assert.are.equal(33554432, lmp.compute_memory(NAME, q_proj).weights)
    -- odd 4-bit: 5*7 + 7 = 42 weights * 4 bits = 21 B; no state
    local m = lmp.compute_memory(NAME, { N = 3, in_features = 5, out_features = 7, bias = true, w_bits = 4, a_bits = 4 })
    assert.are.equal(21, m.weights)
    assert.are.equal(0, m.state)
  end)

  it("prices the backward pass: input and weight gradients, and the bias gradient", function ()
    -- q_proj: dX = dY W, 2*2048*4096*4096 = 68,719,476,736; dW = dY^T X, as many; 137,438,953,472
    assert.are.same({ flops = 137438953472, matmul_flops = 137438953472 }, lmp.compute_backward(NAME, q_proj))
    -- GPT-2 768 -> 3072 with bias, N = 1024: 4*1024*768*3072 = 9,663,676,416;
    -- db = column sums of dY, 1024*3072 = 3,145,728 -> 9,666,822,144
    assert.are.same({ flops = 9666822144, matmul_flops = 9663676416 },
      lmp.compute_backward(NAME, { N = 1024, in_features = 768, out_features = 3072, bias = true }))
  end)

  it("has no backward work and reads nothing with no rows (a layer that does not run in this step)", function ()
    local p = { N = 0, in_features = 2, out_features = 3, bias = true }
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
    -- still 2*3 + 3 = 9 parameters; input 0*2 = 0 el, and N = 0 reads none of the 9 weights: reads 0, weights 0;
    -- output 0*3 = 0 el
    assert.are.equal(9, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.writes)
  end)
end)
