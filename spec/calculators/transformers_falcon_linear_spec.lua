-- transformers FalconLinear: input @ W.T (+ bias): an nn.Linear's figures.
local lmp = require "lmp"

local NAME = "transformers.models.falcon.modeling_falcon.FalconLinear"

describe(NAME, function ()
  -- falcon-7b query_key_value over 128 tokens: 4544 -> (71 + 2) * 64 = 4672, no bias
  local qkv = { N = 128, in_features = 4544, out_features = 4672, bias = false }

  it("counts falcon-7b's fused query_key_value at 128 tokens", function ()
    -- 2 * 128 * 4544 * 4672 = 5,434,769,408
    assert.are.equal(5434769408, lmp.compute_matmul_flops(NAME, qkv))
    assert.are.equal(5434769408, lmp.compute_flops(NAME, qkv))
    -- 4544 * 4672 = 21,229,568
    assert.are.equal(21229568, lmp.compute_params(NAME, qkv))
    local m = lmp.compute_memory(NAME, qkv)
    -- input 128*4544*2 = 1,163,264; weights 21,229,568*2 = 42,459,136; sum 43,622,400
    assert.are.equal(43622400, m.reads)
    assert.are.equal(42459136, m.weights)
    -- output 128*4672*2 = 1,196,032
    assert.are.equal(1196032, m.writes)
  end)

  it("adds the bias separately when there is one", function ()
    local p = { N = 2, in_features = 3, out_features = 5, bias = true }
    -- product 2*2*3*5 = 60, bias add 2*5 = 10; params 15 + 5 = 20
    assert.are.equal(70, lmp.compute_flops(NAME, p))
    assert.are.equal(60, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(20, lmp.compute_params(NAME, p))
    -- backward: dX and dW 2 * 60 = 120, db 2*5 = 10
    assert.are.same({ flops = 130, matmul_flops = 120 }, lmp.compute_backward(NAME, p))
  end)

  it("matches torch.nn.Linear on the same shape", function ()
    local a = lmp.compute("torch.nn.modules.linear.Linear", qkv)
    local b = lmp.compute(NAME, qkv)
    assert.are.same(a, b)
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, in_features = 4544, out_features = 4672, bias = false }
    -- still 4544*4672 = 21,229,568 parameters; input 0*4544 = 0 el, none of them read; output 0*4672 = 0 el
    assert.are.equal(21229568, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
