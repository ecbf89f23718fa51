-- The calculator factories of lua/lmp/kernels.lua (docs/calculators.md): norm_calculator,
-- gemm_calculator and conv_calculator on classes of their own, figures worked by hand, and
-- the one-line errors for a spec they cannot use.
local lmp = require "lmp"
local kernels = lmp.kernels

local function registered(calc)
  lmp.register(calc)
  return calc.full_class_name
end

describe("kernels.norm_calculator", function ()
  local name
  setup(function ()
    name = registered(kernels.norm_calculator {
      full_class_name = "spec.factories.BiasedRMSNorm",
      cost = kernels.COST.rmsnorm,
      backward_cost = kernels.BACKWARD_COST.rmsnorm,
      required_parameters = function ()
        return { rows = "int", d = "posint", affine = { type = "bool", default = true }, a_bits = "posint", w_bits = "posint" }
      end,
      rows = "rows", width = "d", weight = "affine", bias = true,
    })
  end)
  teardown(function () lmp.registry.unregister(name) end)

  it("counts the norm, its weight and its bias", function ()
    local c = lmp.compute(name, { rows = 3, d = 10 }, true)
    assert.are.equal(3 * 10 * (3 + 1 + 1), c.flops)          -- rmsnorm 3, weight mul, bias add
    assert.are.equal(0, c.matmul_flops)
    assert.are.equal(20, c.params)                          -- weight and bias, 10 each
    assert.are.equal(3 * 10 * 2 + 20 * 2, c.reads)          -- the input and both at 16 bits
    assert.are.equal(20 * 2, c.weights)
    assert.are.equal(3 * 10 * 2, c.writes)
    assert.are.equal(3 * 10 * (6 + 2 + 1), c.backward_flops) -- input gradient 6, dW 2, db 1
  end)

  it("has no bias without a weight, and reads no weights without rows", function ()
    local c = lmp.compute(name, { rows = 3, d = 10, affine = false }, true)
    assert.are.equal(3 * 10 * 3, c.flops)
    assert.are.equal(0, c.params)
    assert.are.equal(3 * 10 * (6 - 1), c.backward_flops)
    assert.are.equal(0, lmp.compute_memory(name, { rows = 0, d = 10 }).weights)
  end)
end)

describe("kernels.gemm_calculator", function ()
  local name
  setup(function ()
    name = registered(kernels.gemm_calculator {
      full_class_name = "spec.factories.Projection",
      required_parameters = function ()
        return { tokens = "int", d_in = "posint", d_out = "posint", a_bits = "posint", w_bits = "posint" }
      end,
      rows = "tokens", inner = "d_in", cols = "d_out",
    })
  end)
  teardown(function () lmp.registry.unregister(name) end)

  it("prices one product without a bias", function ()
    local c = lmp.compute(name, { tokens = 5, d_in = 4, d_out = 3, w_bits = 8 }, true)
    assert.are.equal(2 * 5 * 4 * 3, c.matmul_flops)
    assert.are.equal(c.matmul_flops, c.flops)
    assert.are.equal(12, c.params)
    assert.are.equal(5 * 4 * 2 + 12, c.reads)               -- activations at 16 bits, weights at 8
    assert.are.equal(5 * 3 * 2, c.writes)
    assert.are.equal(2 * 2 * 5 * 4 * 3, c.backward_matmul_flops)
    assert.are.equal(c.backward_matmul_flops, c.backward_flops)
  end)

  it("agrees with the Linear it prices", function ()
    local linear = lmp.compute("torch.nn.Linear", { N = 5, in_features = 4, out_features = 3, bias = false, w_bits = 8 }, true)
    local mine = lmp.compute(name, { tokens = 5, d_in = 4, d_out = 3, w_bits = 8 }, true)
    assert.are.same(linear, mine)
  end)
end)

describe("kernels.conv_calculator", function ()
  local name
  setup(function ()
    -- a 1-d convolution whose kernel always covers the whole input: one output position
    name = registered(kernels.conv_calculator {
      full_class_name = "spec.factories.WholeConv",
      required_parameters = function ()
        return { batch_size = "int", in_channels = "posint", out_channels = "posint", groups = "posint",
                 length = "posint", bias = "bool", a_bits = "posint", w_bits = "posint" }
      end,
      geometry = function (p) return 1, kernels.mul(p.in_channels // p.groups, p.length) end,
      input = function (p) return kernels.mul(p.batch_size, p.in_channels, p.length) end,
    })
  end)
  teardown(function () lmp.registry.unregister(name) end)

  it("prices the im2col product, the bias and the image read once", function ()
    local c = lmp.compute(name, { batch_size = 2, in_channels = 4, out_channels = 6, groups = 2, length = 5, bias = true }, true)
    assert.are.equal(2 * (2 * 1) * (2 * 5) * 6, c.matmul_flops)  -- rows 2, fan_in 2*5, 6 columns
    assert.are.equal(c.matmul_flops + 2 * 6, c.flops)
    assert.are.equal(6 * 10 + 6, c.params)
    assert.are.equal(2 * 4 * 5 * 2 + 66 * 2, c.reads)
    assert.are.equal(2 * 6 * 2, c.writes)
    assert.are.equal(2 * c.matmul_flops, c.backward_matmul_flops)
  end)

  it("checks the channels against groups first", function ()
    assert.error_matches(function ()
      lmp.compute_params(name, { batch_size = 1, in_channels = 3, out_channels = 6, groups = 2, length = 5, bias = true })
    end, "in_channels (3) and out_channels (6) must be divisible by groups (2)", 1, true)
  end)
end)

describe("a factory given a spec it cannot use", function ()
  it("says what it expects, naming the caller's line", function ()
    for _, factory in ipairs { "norm_calculator", "gemm_calculator", "conv_calculator" } do
      local ok, err = pcall(function () local calc = kernels[factory] { full_class_name = "x.Y" }; return calc end)
      assert.is_false(ok)
      assert.matches("factories_spec.lua:%d+: " .. factory .. ": expected { full_class_name = ...", err)
    end
  end)

  it("says which size a spec leaves unnamed", function ()
    local ok, err = pcall(function ()
      local calc = kernels.gemm_calculator { full_class_name = "x.Y", required_parameters = function () return {} end,
                                             rows = "N", inner = 4096 }
      return calc
    end)
    assert.is_false(ok)
    assert.matches("gemm_calculator: inner must name the parameter that holds it", err, 1, true)
  end)

  it("refuses a norm cost that is not a non-negative integer", function ()
    local ok, err = pcall(kernels.norm_calculator, { full_class_name = "x.Y", required_parameters = function () return {} end,
      rows = "N", width = "d", cost = 1.5, backward_cost = 6 })
    assert.is_false(ok)
    assert.matches("norm_calculator: cost must be an integer >= 0", err, 1, true)
  end)
end)
