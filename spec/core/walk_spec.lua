-- The recursive walk: repeat multipliers at any depth, exact 128-bit totals, one calculator
-- call per distinct (class, parameters), unknown modules reported loudly, tied weights once.
local lmp = require "lmp"
local h = require "spec.helpers"

local function scale(name, N, weights, extra)
  return ('{"name": "%s", "class": "spec.Scale", "parameters": {"N": %s, "weights": %d}%s}')
    :format(name, type(N) == "string" and ('"' .. N .. '"') or N, weights, extra or "")
end

local function analyze(layers, inputs, opts)
  lmp.set_module_paths({ h.fixtures .. "/modules" })
  local path = h.model(layers)
  local ok, result = pcall(lmp.analyze, path, inputs, opts)
  os.remove(path)
  lmp.set_module_paths()
  if not ok then error(result, 0) end
  return result
end

describe("walk", function ()
  it("multiplies by repeat counts at every depth", function ()
    -- outer x3 { inner x4 { Scale(N=10, weights=7) }, Scale(N=1, weights=2) }
    -- flops: 3 * (4*10 + 1) = 123; params: 3 * (4*7 + 2) = 90
    -- reads: 2 bytes a FLOP plus a byte a weight: 3 * (4*(20 + 7) + (2 + 2)) = 3 * 112 = 336
    local r = analyze('[{"name": "outer", "class": "spec.Outer", "repeat": 3, "sub_layers": [' ..
      '{"name": "inner", "class": "spec.Inner", "repeat": 4, "sub_layers": [' .. scale("s", 10, 7) .. ']},' ..
      scale("t", 1, 2) .. ']}]')
    assert.are.equal(123, r.totals.flops)
    assert.are.equal(90, r.totals.params)
    assert.are.equal(336, r.totals.reads_bytes)
    assert.are.equal(0, r.totals.matmul_flops)
    -- a node's figures include its own repeat; a child's are for one instance of its parent
    local outer = r.tree[1]
    assert.are.equal(123, outer.flops)
    assert.are.equal(40, outer.children[1].flops)          -- inner: 4 * 10
    assert.are.equal(10, outer.children[1].children[1].flops)
    assert.are.equal("outer.inner.s", outer.children[1].children[1].path)
    assert.is_true(r.complete)
  end)

  it("evaluates each distinct (class, parameters) once, whatever the repeats", function ()
    -- three identical layers and one different one: two calculator calls
    local r = analyze('[{"name": "b", "class": "spec.Block", "repeat": 1000, "sub_layers": [' ..
      scale("a", 5, 1) .. "," .. scale("b", 5, 1) .. "," .. scale("c", 5, 1) .. "," .. scale("d", 6, 1) .. ']}]')
    assert.are.equal(2, r.evaluations)
    assert.are.equal(1000 * (5 + 5 + 5 + 6), r.totals.flops)
  end)

  it("evaluates ${...} templates over the runtime inputs", function ()
    -- N = batch * (kv_len + seq_len) = 2 * (5 + 3) = 16
    local r = analyze("[" .. scale("s", "${batch_size} * (${kv_len} + ${seq_len})", 0) .. "]",
      { batch_size = 2, seq_len = 3, kv_len = 5 })
    assert.are.equal(16, r.totals.flops)
    assert.are.equal(16, r.tree[1].parameters.N)
  end)

  it("names the layer when a template uses an unknown variable or gives a fraction", function ()
    local err = h.error_of(analyze, "[" .. scale("s", "${seqlen}", 0) .. "]")
    assert.matches("$.layers[0] (s): parameter 'N': formula \"${seqlen}\": column 1: unknown variable 'seqlen'", err.message, 1, true)
    err = h.error_of(analyze, "[" .. scale("s", "${seq_len} / 3", 0) .. "]", { seq_len = 4 })
    assert.matches("does not give an integer", err.message, 1, true)
  end)

  it("keeps totals exact past 2^63 (as decimal strings)", function ()
    -- per call: N = 2^61 FLOPs; repeat 2^10 -> 2^71 = 2,361,183,241,434,822,606,848
    local r = analyze('[{"name": "b", "class": "spec.Block", "repeat": 1024, "sub_layers": [' ..
      scale("s", 2305843009213693952, 0) .. ']}]')
    assert.are.equal("2361183241434822606848", r.totals.flops)
    local json = require("lmp.report").json(r)
    assert.matches('"flops":2361183241434822606848', json, 1, true)
  end)

  it("reports a kernel overflow inside a calculator as an error naming the layer", function ()
    -- Linear: 2 * 2^40 * 2^20 * 2^20 = 2^81 does not fit in 64 bits
    local path = h.model('[{"name": "big", "class": "torch.nn.modules.linear.Linear", "parameters": ' ..
      '{"N": 1099511627776, "in_features": 1048576, "out_features": 1048576, "bias": false}}]')
    local err = h.error_of(lmp.analyze, path)
    assert.are.equal(lmp.EXIT.CALC, err.code)
    assert.matches("$.layers[0] (big): ", err.message, 1, true)
    assert.matches("kernels.matmul: integer overflow", err.message, 1, true)
  end)

  it("reports unknown modules loudly, with counts including repeats, and still counts the rest", function ()
    local r = analyze('[{"name": "b", "class": "spec.Block", "repeat": 6, "sub_layers": [' ..
      scale("s", 2, 0) .. ', {"name": "mystery", "class": "some.lib.Mystery", "parameters": {"N": 1}}]}]')
    assert.is_false(r.complete)
    assert.are.same({ { class = "some.lib.Mystery", count = 6 } }, r.unknown_modules)
    assert.are.equal(12, r.totals.flops)
    assert.is_true(r.tree[1].incomplete)
    assert.is_true(r.tree[1].children[2].unknown)
  end)

  it("counts unknown instances exactly past 2^63 (as decimal strings)", function ()
    -- two layers of 5 * 10^18 instances each: 10^19 > 2^63 - 1
    local r = analyze('[{"name": "a", "class": "some.lib.Mystery", "repeat": 5000000000000000000, "parameters": {"N": 1}},' ..
      '{"name": "b", "class": "some.lib.Mystery", "repeat": 5000000000000000000, "parameters": {"N": 2}}]')
    assert.are.same({ { class = "some.lib.Mystery", count = "10000000000000000000" } }, r.unknown_modules)
  end)

  it("counts tied weights once, at the layer that owns them", function ()
    local r = analyze("[" .. scale("wte", 1, 100) .. "," .. scale("lm_head", 1, 100, ', "weights_tied_to": "wte"') .. "]")
    assert.are.equal(100, r.totals.params)
    assert.are.equal(2, r.totals.flops)
  end)

  it("limits the tree to the requested depth but not the totals", function ()
    local r = analyze('[{"name": "b", "class": "spec.Block", "repeat": 2, "sub_layers": [' .. scale("s", 4, 1) .. ']}]',
      nil, { depth = 1 })
    assert.is_nil(r.tree[1].children)
    assert.are.equal(8, r.totals.flops)
  end)

  it("rejects bad inputs", function ()
    assert.error_matches(function () analyze("[" .. scale("s", 1, 0) .. "]", { seq_len = 0 }) end, "seq_len must be >= 1")
    assert.error_matches(function () analyze("[" .. scale("s", 1, 0) .. "]", { w_bits = 1.5 }) end, "w_bits must be an integer")
    assert.error_matches(function () analyze("[" .. scale("s", 1, 0) .. "]", { seqlen = 3 }) end, "unknown input 'seqlen'")
  end)
end)
