-- The ${param} / {Module} formula engine, through lmp.eval.
local lmp = require "lmp"
local h = require "spec.helpers"

describe("formula engine", function ()
  it("evaluates arithmetic over parameters exactly", function ()
    assert.are.equal(15, lmp.eval("2 * ${n} + 1", { n = 7 }))
    assert.are.equal(21, lmp.eval("(1 + 2) * (3 + 4)", {}))
    assert.are.equal(-4, lmp.eval("-${n} // 2", { n = 7 }))      -- floor division rounds down
    assert.are.equal(1, lmp.eval("${n} % 3", { n = 7 }))
  end)

  it("divides exactly and rounds only with ceil / floor", function ()
    -- 7 elements at 4 bits = 28 bits = 3.5 bytes
    assert.are.equal(4, lmp.eval("ceil(${n} * ${bits} / 8)", { n = 7, bits = 4 }))
    assert.are.equal(3, lmp.eval("floor(${n} * ${bits} / 8)", { n = 7, bits = 4 }))
    assert.error_matches(function () lmp.eval("${n} / 2", { n = 7 }) end, "result 7/2 is not an integer")
  end)

  it("has min, max, comparisons, logic and conditionals", function ()
    assert.are.equal(3, lmp.eval("min(5, ${n}, 9)", { n = 3 }))
    assert.are.equal(9, lmp.eval("max(5, ${n}, 9)", { n = 3 }))
    assert.are.equal(10, lmp.eval("${b} ? 10 : 20", { b = true }))
    assert.are.equal(20, lmp.eval("${b} ? 10 : 20", { b = false }))
    assert.are.equal(1, lmp.eval("${n} >= 3 && ${n} != 4 || 0", { n = 3 }))
    assert.are.equal(9, lmp.eval("${mode} == 'tanh' ? 9 : 5", { mode = "tanh" }))
  end)

  it("keeps integers past 2^53 exact and goes past 2^63 as an exact decimal string", function ()
    -- (2^53 + 1) * 3 = 27,021,597,764,222,979: a double cannot hold it
    assert.are.equal(27021597764222979, lmp.eval("${x} * 3", { x = 9007199254740993 }))
    -- 2^62 * 8 = 2^65 = 36,893,488,147,419,103,232
    assert.are.equal("36893488147419103232", lmp.eval("${x} * 8", { x = 4611686018427387904 }))
  end)

  it("resolves {Module} references through the given resolver", function ()
    local seen
    local v = lmp.eval("{Inner} * 2 + ${n}", { n = 1 }, function (name) seen = name; return 50 end)
    assert.are.equal("Inner", seen)
    assert.are.equal(101, v)
  end)

  it("names the column and the problem for bad formulas", function ()
    assert.error_matches(function () lmp.eval("${n} + ${m}", { n = 1 }) end, "column 8: unknown parameter 'm'")
    assert.error_matches(function () lmp.eval("(1 + 2", {}) end, "column 7: expected '%)'")
    assert.error_matches(function () lmp.eval("${n} +", { n = 1 }) end, "unexpected end of formula")
    assert.error_matches(function () lmp.eval("sqrt(4)", {}) end, "unknown name 'sqrt'")
    assert.error_matches(function () lmp.eval("${n} / 0", { n = 1 }) end, "division by zero")
    assert.error_matches(function () lmp.eval("{M}", {}) end, "no module database")
    assert.error_matches(function () lmp.eval(string.rep("(", 80) .. "1" .. string.rep(")", 80), {}) end,
      "nested too deeply")
    assert.error_matches(function () lmp.eval(string.rep("1+", 3000) .. "1", {}) end, "longer than 4096")
  end)

  it("raises lmp errors that carry the usage exit code", function ()
    local err = h.error_of(lmp.eval, "1 +", {})
    assert.is_true(lmp.core.is_error(err))
    assert.are.equal(lmp.EXIT.USAGE, err.code)
  end)
end)
