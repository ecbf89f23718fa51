-- Regressions found by the fuzz targets (tests/fuzz, docs/fuzzing.md): each input here once
-- crashed lmp, tripped a sanitizer or gave a wrong answer. The raw inputs are in
-- tests/fuzz/corpus/*/regress-*.
local lmp = require "lmp"

describe("fuzz regressions", function ()
  it("loads a basic layer with an empty parameters object", function ()
    -- qsort was handed the NULL parameter array of an empty object (UBSan: nonnull argument)
    local m = lmp.load_model_string('{"layers": [{"name": "a", "class": "x.Unknown", "parameters": {}}]}')
    assert.are.equal(1, m.basic_layer_count)
    local r = lmp.analyze(m, {})
    assert.is_false(r.complete)
  end)

  it("reads decimal literals as reduced fractions", function ()
    assert.are.equal(2, lmp.eval("2.0"))
    assert.are.equal(4, lmp.eval("min(${n}, 4.00)", { n = 7 }))
  end)
end)
