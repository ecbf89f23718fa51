-- Regressions found by the fuzz targets (tests/fuzz, docs/fuzzing.md): each input here once
-- crashed lmp, tripped a sanitizer or gave a wrong answer. The raw inputs are in
-- tests/fuzz/corpus/*/regress-*.
local lmp = require "lmp"
local h = require "spec.helpers"

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

  it("refuses a calculator nested too deeply to parse with one line naming the file", function ()
    -- (fuzz_calc) the parser's "C stack overflow" is a runtime error, which lua_load passed
    -- through main.c's message handler: a traceback, and no file named
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/torch_linear.lua", "w"))
    f:write("return ", ("{"):rep(300), ("}"):rep(300), "\n")
    f:close()
    local _, err, code = h.run("module", "flops", "torch.nn.modules.linear.Linear", "in_features=1", "out_features=1",
      "N=1", "bias=false", "--modules", dir)
    assert.are.equal(3, code)
    assert.are.equal("lmp: " .. dir .. "/torch_linear.lua: C stack overflow\n", err)
  end)

  it("shows an LLM server's error text on one line, without its control characters", function ()
    -- (fuzz_reply) the API's message went into the error as it was: newlines, escapes
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", status = 401,
      body = '{"error": {"type": "authentication_error", "message": "bad key\\nnext line \\u001b[2J"}}' } })
    local dir = h.tmpdir()
    local _, err, code = h.run_env({ ANTHROPIC_API_KEY = "sk-x", ANTHROPIC_BASE_URL = server.url, OPENAI_BASE_URL = "",
      OPENAI_API_KEY = "", LMP_LLM_PROVIDER = "", HOME = dir, XDG_DATA_HOME = dir },
      "generate", "--full-class-name", "torch.nn.modules.activation.Mish", "--source-root", dir)
    server.stop()
    assert.are.equal(2, code)
    -- the last line is the whole error (before the fix, "next line" began a line of its own)
    local last = err:match("\n(lmp: [^\n]*)\n$")
    assert.are.equal("lmp: anthropic at " .. server.url .. " refused the API key (HTTP 401: bad key next line  [2J)", last)
    assert.is_nil(err:find("\27", 1, true))
  end)

  it("refuses a parameter spec whose type is a number, naming the parameter", function ()
    -- (found by review beside fuzz_calc) the number was read as a new string that nothing
    -- kept: the check compared and printed memory the collector may have freed
    local problems = lmp.check_calculator({ full_class_name = "spec.T",
      required_parameters = function () return { n = { type = 12 } } end,
      flops = function () return 0 end, matmul_flops = function () return 0 end, params = function () return 0 end,
      memory = function () return { reads = 0, writes = 0, intermediates = 0 } end })
    assert.are.equal(1, #problems)
    assert.matches("required_parameters: 'n' has type table; expected \"int\"", problems[1], 1, true)
  end)

  it("shows a calculator's error and a syntax error in it on one line, without control characters", function ()
    -- (found by review beside fuzz_reply and fuzz_calc) the calculator's message went into
    -- the error as it was: a generated calculator could print terminal escapes
    local dir = h.tmpdir()
    local function flops(body)
      local f = assert(io.open(dir .. "/spec_esc.lua", "w"))
      f:write(body)
      f:close()
      local _, err, code = h.run("module", "flops", "spec.Esc", "N=1", "--modules", dir)
      assert.are.equal(3, code)
      assert.are.equal(1, select(2, err:gsub("\n", "")), err)
      assert.is_nil(err:find("\27", 1, true))
      return err
    end
    local err = flops("return { full_class_name = 'spec.Esc', required_parameters = function () return { N = 'int' } end,\n" ..
      "  flops = function () error('line one\\nline two \\27[31mred', 0) end, matmul_flops = function () return 0 end,\n" ..
      "  params = function () return 0 end, memory = function () return { reads = 0, writes = 0, intermediates = 0 } end }\n")
    assert.matches("flops: line one line two  [31mred\n", err, 1, true)
    err = flops("return { x = 'a\27[31mb\n")
    assert.matches("spec_esc.lua:1: unfinished string near ''a [31mb'\n", err, 1, true)
  end)

  it("keeps the check's problems on one line when a sample quotes control characters", function ()
    local problems = lmp.check_calculator({ full_class_name = "spec.T",
      required_parameters = function () return { s = "string" } end,
      sample_parameters = function () return { { s = "a\nb\27[2J" } } end,
      flops = function () error("no") end, matmul_flops = function () return 0 end, params = function () return 0 end,
      memory = function () return { reads = 0, writes = 0, intermediates = 0 } end })
    assert.are.equal(1, #problems)
    assert.matches("calculator fails on sample {s=a b [2J}", problems[1], 1, true)
  end)
end)
