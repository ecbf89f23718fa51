-- cli.parse and cli.analyze_options: the command line checked without loading anything
-- (what tests/fuzz/fuzz_cli.c fuzzes)
local cli = require "lmp.cli"
local lmp = require "lmp"

local function usage_error(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.is_true(lmp.core.is_error(err), "expected an lmp error, got " .. tostring(err))
  assert.are.equal(lmp.EXIT.USAGE, err.code)
  return err.message
end

describe("cli.parse", function ()
  local SPEC = { batch = "int", format = "string", modules = "list", offline = "flag" }

  it("reads --name value, --name=value, lists, flags and positionals", function ()
    local o, pos = cli.parse({ "--batch", "8", "x", "--format=json", "--modules", "a", "--modules=b", "--offline", "y" },
      SPEC, "test")
    assert.are.same({ batch = 8, format = "json", modules = { "a", "b" }, offline = true }, o)
    assert.are.same({ "x", "y" }, pos)
  end)

  it("raises usage errors naming the command", function ()
    assert.matches("test: unknown option --nope (see lmp test --help)", usage_error(cli.parse, { "--nope" }, SPEC, "test"), 1, true)
    assert.matches("--batch needs a value", usage_error(cli.parse, { "--batch" }, SPEC, "test"), 1, true)
    assert.matches("--offline takes no value", usage_error(cli.parse, { "--offline=1" }, SPEC, "test"), 1, true)
    assert.matches("non-negative integer, got '-1'", usage_error(cli.parse, { "--batch", "-1" }, SPEC, "test"), 1, true)
    assert.matches("got '9223372036854775808'", usage_error(cli.parse, { "--batch=9223372036854775808" }, SPEC, "test"), 1, true)
  end)
end)

describe("cli.analyze_options", function ()
  it("returns the options, the inputs and the format without opening the model", function ()
    local o, inputs, format = cli.analyze_options({ "--model-json", "/nonexistent.json", "--phase", "decode",
      "--kv-len", "4095", "--batch", "8", "--format", "csv" })
    assert.are.equal("/nonexistent.json", o["model-json"])
    assert.are.equal("csv", format)
    assert.are.same({ batch_size = 8, seq_len = 1, kv_len = 4095, phase = "decode" }, inputs)
  end)

  it("gives generate's prompt and new tokens", function ()
    local _, inputs = cli.analyze_options({ "--config", "c", "--phase", "generate", "--seq", "128", "--new-tokens", "16" })
    assert.are.same({ prompt_len = 128, new_tokens = 16 }, inputs)
  end)

  it("checks the inputs as the analysis will", function ()
    assert.matches("batch_size must be >= 1", usage_error(cli.analyze_options, { "--model-json", "m", "--batch", "0" }), 1, true)
    assert.matches("--w-bits expects a number of bits from 1 to 64", usage_error(cli.analyze_options, { "--model-json", "m", "--w-bits", "65" }), 1, true)
    assert.matches("--new-tokens must be at least 1",
      usage_error(cli.analyze_options, { "--model-json", "m", "--phase", "generate", "--new-tokens", "0" }), 1, true)
    assert.matches("seq_len must be >= 1",
      usage_error(cli.analyze_options, { "--model-json", "m", "--phase", "generate", "--new-tokens", "2", "--seq", "0" }), 1, true)
    assert.matches("analyze: name one model: MODEL", usage_error(cli.analyze_options, { "--batch", "2" }), 1, true)
    -- --logits-len: 1 to --seq (generate: to the prompt's --seq); decode's seq_len is 1
    assert.matches("logits_len must be at most seq_len (16), got 17",
      usage_error(cli.analyze_options, { "--model-json", "m", "--seq", "16", "--logits-len", "17" }), 1, true)
    assert.matches("logits_len must be >= 1, got 0", usage_error(cli.analyze_options, { "--model-json", "m", "--logits-len", "0" }), 1, true)
    assert.matches("logits_len must be at most seq_len (1), got 2",
      usage_error(cli.analyze_options, { "--model-json", "m", "--phase", "decode", "--kv-len", "9", "--logits-len", "2" }), 1, true)
    assert.matches("logits_len must be at most seq_len (16), got 17", usage_error(cli.analyze_options,
      { "--model-json", "m", "--phase", "generate", "--seq", "16", "--new-tokens", "2", "--logits-len", "17" }), 1, true)
  end)
end)
