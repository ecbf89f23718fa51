-- Calculators run in the sandbox and everything they return is checked.
local lmp = require "lmp"
local h = require "spec.helpers"

local function compute(class, params)
  lmp.set_module_paths({ h.fixtures .. "/modules" })
  local ok, r = pcall(lmp.compute, class, params or { N = 1 })
  lmp.set_module_paths()
  if not ok then error(r, 0) end
  return r
end

describe("calculator sandbox and validation", function ()
  it("refuses a negative result", function ()
    local err = h.error_of(compute, "spec.Negative")
    assert.are.equal(lmp.EXIT.CALC, err.code)
    assert.matches("spec_negative.lua: flops() returned -1, a negative value", err.message, 1, true)
  end)

  it("refuses a non-integer result", function ()
    assert.error_matches(function () compute("spec.Float") end, "flops() returned 1.5, a float", 1, true)
  end)

  it("gives calculators no os, io, require or load", function ()
    os.remove("/tmp/lmp-escaped")
    assert.error_matches(function () compute("spec.Escape") end, "global 'os'", 1, true)
    assert.is_nil(io.open("/tmp/lmp-escaped"))
    local env = lmp.core.sandbox_env()
    for _, name in ipairs({ "os", "io", "require", "load", "loadfile", "dofile", "debug", "package", "collectgarbage" }) do
      assert.is_nil(env[name], name .. " is reachable")
    end
    assert.is_nil(env.string.dump)
    assert.is_nil(string.dump) -- not even through ("").dump
  end)

  it("keeps one calculator from changing the kernels or libraries another one uses", function ()
    assert.are.equal(1, compute("spec.Tamper").flops)
    -- Linear still multiplies: 2*1*2*3 = 12, and the bias add still costs 1 per output: +3
    assert.are.equal(15, lmp.compute_flops("torch_Linear", { N = 1, in_features = 2, out_features = 3, bias = true }))
    assert.are.equal(1, lmp.kernels.COST.add)
    assert.is_function(string.rep)
  end)

  it("stops a calculator that never returns, within a second", function ()
    local t0 = os.clock()
    assert.error_matches(function () compute("spec.Loop") end, "instruction budget exceeded", 1, true)
    assert.is_true(os.clock() - t0 < h.within(1))
  end)

  it("stops a calculator that allocates without bound", function ()
    local t0 = os.clock()
    assert.error_matches(function () compute("spec.Hog") end, "memory cap of 16 MiB exceeded", 1, true)
    assert.is_true(os.clock() - t0 < h.within(1))
    collectgarbage()
  end)

  it("refuses a calculator without the required functions", function ()
    assert.error_matches(function () compute("spec.BadShape") end, "spec_bad_shape.lua: required_parameters must be a function", 1, true)
  end)

  it("validates parameters before every call, naming the parameter", function ()
    assert.error_matches(function () lmp.compute("torch.nn.modules.linear.Linear", { N = 1, in_features = 2, bias = false }) end,
      "missing parameter 'out_features'", 1, true)
    assert.error_matches(function () lmp.compute("torch.nn.modules.linear.Linear", { N = 1.5, in_features = 2, out_features = 2, bias = false }) end,
      "parameter 'N' must be an integer", 1, true)
    assert.error_matches(function () lmp.compute("torch.nn.modules.linear.Linear", { N = 1, in_features = 0, out_features = 2, bias = false }) end,
      "parameter 'in_features' must be >= 1, got 0", 1, true)
    assert.error_matches(function () lmp.compute("torch.nn.modules.linear.Linear", { N = 1, in_features = 2, out_features = 2, bias = "yes" }) end,
      "parameter 'bias' must be true or false", 1, true)
    assert.error_matches(function () lmp.compute("torch.nn.modules.linear.Linear", { N = 1, in_features = 2, out_features = 2, bias = false, in_feature = 2 }) end,
      "parameter 'in_feature' is not one", 1, true)
  end)

  it("refuses bytecode", function ()
    local path = h.write("\27Lua garbage", ".lua")
    assert.error_matches(function () lmp.core.load_calculator(path) end, "attempt to load a binary chunk", 1, true)
    os.remove(path)
  end)
end)
