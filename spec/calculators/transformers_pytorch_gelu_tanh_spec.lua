-- transformers PytorchGELUTanh: gelu(x, approximate="tanh"), 9 FLOPs an element, 19 backward.
local lmp = require "lmp"

local NAME = "transformers.activations.PytorchGELUTanh"

describe(NAME, function ()
  -- gemma-2b act_fn over 2048 tokens: 2048 * 16384 = 33,554,432 elements
  local act = { numel = 33554432 }

  it("counts the gemma-2b MLP activation at 2048 tokens", function ()
    -- 33,554,432 * 9 = 301,989,888
    assert.are.equal(301989888, lmp.compute_flops(NAME, act))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, act))
    assert.are.equal(0, lmp.compute_params(NAME, act))
    local m = lmp.compute_memory(NAME, act)
    -- 33,554,432 * 2 bytes = 67,108,864 each way
    assert.are.equal(67108864, m.reads)
    assert.are.equal(67108864, m.writes)
  end)

  it("costs as much as NewGELUActivation (the same tanh formula)", function ()
    assert.are.equal(lmp.compute_flops("transformers.activations.NewGELUActivation", act), lmp.compute_flops(NAME, act))
  end)

  it("prices the backward pass", function ()
    -- 33,554,432 * 19 = 637,534,208
    assert.are.same({ flops = 637534208, matmul_flops = 0 }, lmp.compute_backward(NAME, act))
  end)

  it("answers to its db key", function ()
    assert.are.equal(90, lmp.compute_flops("transformers_PytorchGELUTanh", { numel = 10 }))
  end)
end)
