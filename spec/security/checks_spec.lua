-- Bad input to the checks and the figures is a one-line problem, never a traceback or a
-- silent figure: a sample_parameters() that asks for 400,000 checks, a malformed
-- module_db.json, parameter specs that module show could not print, a weights_tied_to cycle,
-- a convolution whose output length passes 2^63.
local lmp = require "lmp"
local h = require "spec.helpers"

local function one_line(s) return select(2, s:gsub("\n", "")) == 1 and not s:find("traceback", 1, true) end

-- a calculator file spec.Checked with the given required_parameters body and extra fields
local function calculator(required, extra)
  local dir = h.tmpdir()
  local path = dir .. "/spec_checked.lua"
  local f = assert(io.open(path, "w"))
  f:write("return {\n  full_class_name = 'spec.Checked',\n  required_parameters = function () return ", required, " end,\n",
    "  flops = function (p) return 0 end,\n  matmul_flops = function (p) return 0 end,\n  params = function (p) return 0 end,\n",
    "  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,\n",
    "  backward = function (p) return { flops = 0, matmul_flops = 0 } end,\n", extra or "", "}\n")
  f:close()
  return dir, path
end

describe("checks and figures on hostile input", function ()
  it("refuses more than db.MAX_SAMPLES samples at once instead of spending a budget on each", function ()
    assert.are.equal(32, require("lmp.db").MAX_SAMPLES)
    -- 400,000 references to one table: 6 MB, under the memory cap; checked one by one they took ~4 h
    local _, path = calculator("{ N = 'int' }",
      "  sample_parameters = function () local p, t = { N = 1 }, {} for i = 1, 400000 do t[i] = p end return t end,\n")
    local seconds, out, err, code = h.cpu_seconds(h.run_prefixed, "timeout 60", "module", "check", path)
    assert.is_true(seconds < h.within(2), seconds .. " CPU s")
    assert.are.equal(4, code, err)
    assert.matches("sample_parameters() returned 400000 parameter tables; at most 32 are checked", out, 1, true)
    -- 32 are fine: N = 1 .. 32
    _, path = calculator("{ N = 'int' }",
      "  sample_parameters = function () local t = {} for i = 1, 32 do t[i] = { N = i } end return t end,\n")
    out, err, code = h.run("module", "check", path)
    assert.are.equal(0, code, out .. err)
  end)

  it("reports a sample that is not a table as a problem", function ()
    local _, path = calculator("{ N = 'int' }", "  sample_parameters = function () return { 5 } end,\n")
    local out, _, code = h.run("module", "check", path)
    assert.are.equal(4, code)
    assert.matches("sample_parameters()[1] is a number, not a parameter table", out, 1, true)
  end)

  local malformed = {
    { "[5]", '"parameters": [5]', "flop_analysis.parameters[1] must be an object with a name, got 5" },
    { "[{}]", '"parameters": [{}]', "flop_analysis.parameters[1] must be an object with a name, got an object without one" },
    { '["numel"]', '"parameters": ["numel"]', 'flop_analysis.parameters[1] must be an object with a name, got "numel"' },
  }
  for _, case in ipairs(malformed) do
    it("db check reports an entry whose parameters are " .. case[1] .. " as one line naming it", function ()
      local path = h.write('{"torch_Linear": {"full_class_name": "torch.nn.modules.linear.Linear", "flop_analysis": {' .. case[2] .. '}}}')
      local out, err, code = h.run("db", "check", "--db", path)
      assert.are.equal(4, code, err)
      assert.matches("FAIL  torch_Linear +" .. case[3]:gsub("%p", "%%%0"), out)
      assert.are.equal("", err)
      os.remove(path)
    end)
  end

  it("db check refuses a database that is an array, in one line", function ()
    local path = h.write("[1, 2]")
    local _, err, code = h.run("db", "check", "--db", path)
    assert.are.equal(2, code)
    assert.matches(path .. ": expected an object of entries, not an array", err, 1, true)
    assert.is_true(one_line(err), err)
    os.remove(path)
  end)

  it("db check reports a same_as that is not a class name", function ()
    local path = h.write('{"torch_Linear": {"same_as": 5}}')
    local out, _, code = h.run("db", "check", "--db", path)
    assert.are.equal(4, code)
    assert.matches("FAIL  torch_Linear +same_as must be a full class name", out)
    os.remove(path)
  end)

  -- specs whose extra fields do not fit the type: module show once crashed on them while
  -- module check accepted them; both now refuse them with one line naming the field
  local specs = {
    { "{ N = { type = 'int', values = { {}, 1 } } }", "'N': values must be a non-empty list of strings, on a string parameter" },
    { "{ N = { type = 'bool', min = {} } }", "'N': min must be absent for this type" },
    { "{ N = { type = 'int', min = 1.5 } }", "'N': min must be an integer" },
    { "{ N = { type = 'string', values = { 'a', 2 } } }", "'N': values must be a non-empty list of strings" },
    { "{ N = { type = 'bool', default = 1 } }", "'N': default must be a bool value" },
  }
  for _, case in ipairs(specs) do
    it("module check and module show refuse a spec whose fields do not fit its type: " .. case[1], function ()
      local dir, path = calculator(case[1])
      local out, err, code = h.run("module", "check", path)
      assert.are.equal(4, code, out .. err)
      assert.matches(case[2], out, 1, true)
      out, err, code = h.run("module", "show", "spec.Checked", "--modules", dir)
      assert.are.equal(3, code, out .. err)
      assert.matches(case[2], err, 1, true)
      assert.is_true(one_line(err), err)
    end)
  end

  it("refuses a weights_tied_to cycle instead of counting no weights", function ()
    local path = h.model([=[[
      {"name": "a", "class": "torch.nn.modules.linear.Linear", "weights_tied_to": "b",
       "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}},
      {"name": "b", "class": "torch.nn.modules.linear.Linear", "weights_tied_to": "a",
       "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}}
    ]]=])
    local out, err, code = h.run("analyze", "--model-json", path)
    assert.are.equal(2, code, out)
    assert.matches('weights_tied_to: "b" is itself tied to "a"; tie to the layer that owns the weights', err, 1, true)
    assert.is_true(one_line(err), err)
    os.remove(path)
  end)

  it("still counts a tie to the owner once: 2*3 = 6 weights", function ()
    local path = h.model([=[[
      {"name": "a", "class": "torch.nn.modules.linear.Linear",
       "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}},
      {"name": "b", "class": "torch.nn.modules.linear.Linear", "weights_tied_to": "a",
       "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}}
    ]]=])
    assert.are.equal(6, lmp.analyze(path).totals.params)
    os.remove(path)
  end)

  it("refuses a convolution output length past 2^63 instead of wrapping it", function ()
    -- padding 2^63-1: L_out = 10 + 2*(2^63-1) - 1 + 1 = 2^64 + 8, which wrapped to 8
    local out, err, code = h.run("module", "compute", "torch_Conv1d", "batch_size=1", "in_channels=1", "out_channels=1",
      "kernel_size=1", "stride=1", "padding=9223372036854775807", "dilation=1", "length=10", "groups=1", "bias=false",
      "w_bits=16", "a_bits=16")
    assert.are.equal(3, code, out)
    assert.matches("kernels.conv_out: integer overflow", err, 1, true)
    local k = lmp.kernels
    assert.are.equal(10, k.conv_out(10, 3, 1, 1, 1)) -- 10 + 2*1 - 1*(3-1) - 1, / 1, + 1
    -- 1 + 2*(2^62-1) - 0 - 1 = 2^63 - 2; / 2 + 1 = 2^62
    assert.are.equal(4611686018427387904, k.conv_out(1, 1, 2, 4611686018427387903, 1))
    assert.are.equal(math.maxinteger, k.conv_out(1, 1, 1, 4611686018427387903, 1)) -- 2^63 - 2 + 1
    assert.error_matches(function () k.conv_out(1, 1, 1, 4611686018427387904, 1) end, "integer overflow") -- 2^63
  end)
end)
