-- torch.nn.parameter.Parameter: a bare weight, counted as parameters, priced where it is used.
local lmp = require "lmp"

local NAME = "torch.nn.parameter.Parameter"

describe("torch.nn.parameter.Parameter", function ()
  -- BertLMPredictionHead.bias of bert-base-uncased: vocab_size 30522 values
  local p = { numel = 30522 }

  it("counts numel parameters and nothing else", function ()
    assert.are.equal(30522, lmp.compute_params(NAME, p))
    assert.are.equal(0, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    assert.are.same({ 0, 0, 0, 0 }, { m.reads, m.writes, m.intermediates, m.weights })
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
  end)

  it("answers to its db key and rejects an empty parameter", function ()
    assert.are.equal(7, lmp.compute_params("torch_Parameter", { numel = 7 }))
    assert.has_error(function () lmp.compute_params(NAME, { numel = 0 }) end)
    assert.error_matches(function () lmp.compute_params(NAME, {}) end, "numel")
  end)
end)
