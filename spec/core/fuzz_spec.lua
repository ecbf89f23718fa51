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

  it("counts the instances of an unknown class past 2^63-1 exactly", function ()
    -- the count of each unknown class was a plain int64 sum (UBSan: signed overflow)
    local m = lmp.load_model_string('{"layers": [' ..
      '{"name": "a", "class": "x.U", "repeat": 4611686018427387904, "parameters": {}},' ..
      '{"name": "b", "class": "x.U", "repeat": 4611686018427387904, "parameters": {}}]}')
    local r = lmp.analyze(m, {})
    assert.are.same({ { class = "x.U", count = "9223372036854775808" } }, r.unknown_modules)
  end)

  it("takes a --depth beyond the int range as every level", function ()
    -- (found by review beside the fuzzing) opts.depth went through an (int) cast: 2^32 was 0
    local r = lmp.analyze("models/gpt2.json", {}, { depth = 1 << 32 })
    assert.is_table(r.tree[1].children)
  end)

  it("reads decimal literals as reduced fractions", function ()
    assert.are.equal(2, lmp.eval("2.0"))
    assert.are.equal(4, lmp.eval("min(${n}, 4.00)", { n = 7 }))
  end)
end)
