-- Loading the standard model JSON: every bad input is a one-line error naming the file,
-- the line:column and the JSON path, never a crash.
local lmp = require "lmp"
local h = require "spec.helpers"

local LINEAR = '"class": "torch.nn.modules.linear.Linear"'

local function load_error(text)
  local path = h.write(text)
  local err = h.error_of(lmp.load_model, path)
  os.remove(path)
  assert.is_true(lmp.core.is_error(err), "expected an lmp error, got " .. tostring(err))
  assert.are.equal(lmp.EXIT.USAGE, err.code)
  return err.message, path
end

describe("model loading", function ()
  it("loads a valid model and exposes its id, config and size", function ()
    local m = lmp.load_model("models/gpt2.json")
    assert.are.equal("openai-community/gpt2", m.model_id)
    assert.are.equal(768, m.config.n_embd)
    assert.is_true(m.layer_count > 10)
  end)

  it("reports malformed JSON with the line and column", function ()
    local msg, path = load_error('{\n  "layers": [\n    {"name": "a",, }\n  ]\n}')
    assert.are.equal(path .. ":3:18: expected a string key, found ','", msg)
  end)

  it("reports a truncated file", function ()
    local msg = load_error('{"layers": [')
    assert.matches("1:13: unexpected end of input", msg, 1, true)
  end)

  it("names a missing file", function ()
    local err = h.error_of(lmp.load_model, "/nonexistent/model.json")
    assert.matches("/nonexistent/model.json: cannot open", err.message, 1, true)
  end)

  it("names the JSON path of a layer without a class", function ()
    local msg = load_error('{"layers": [{"name": "m", "class": "x.M", "sub_layers": [{"name": "fc"}]}]}')
    assert.matches('$.layers[0].sub_layers[0]: layer "fc" needs a "class"', msg, 1, true)
  end)

  it("rejects bad repeat counts, unknown fields and wrong types at their path", function ()
    assert.matches("$.layers[0].repeat: expected an integer >= 1",
      load_error('{"layers": [{"name": "a", ' .. LINEAR .. ', "repeat": 0}]}'), 1, true)
    assert.matches("$.layers[0].repeat: expected an integer >= 1, got a string",
      load_error('{"layers": [{"name": "a", ' .. LINEAR .. ', "repeat": "32"}]}'), 1, true)
    assert.matches('$.layers[0].repaet: unknown field "repaet"',
      load_error('{"layers": [{"name": "a", ' .. LINEAR .. ', "repaet": 2}]}'), 1, true)
    assert.matches("$.layers: a model needs at least one layer", load_error('{"layers": []}'), 1, true)
    assert.matches('a model file needs "layers"', load_error('{"model_id": "x"}'), 1, true)
    assert.matches("$.encoder_only: expected true or false, got a string",
      load_error('{"encoder_only": "yes", "layers": [{"name": "a", ' .. LINEAR .. '}]}'), 1, true)
    assert.matches("$.layers[0].parameters.N: a parameter must be",
      load_error('{"layers": [{"name": "a", ' .. LINEAR .. ', "parameters": {"N": [1]}}]}'), 1, true)
    assert.matches("has both sub_layers and parameters",
      load_error('{"layers": [{"name": "a", "class": "x.A", "parameters": {}, "sub_layers": [{"name": "b", ' .. LINEAR .. '}]}]}'), 1, true)
  end)

  it("rejects a formula with a syntax error when the model loads, naming the parameter", function ()
    local msg = load_error('{"layers": [{"name": "a", ' .. LINEAR .. ', "parameters": {"N": "${batch_size} * (${seq_len}"}}]}')
    assert.matches('$.layers[0].parameters.N: formula "${batch_size} * (${seq_len}": column 28: expected \')\'', msg, 1, true)
  end)

  it("rejects repeat counts whose product passes 2^63-1", function ()
    -- 2^32 * 2^31 = 2^63 > 2^63 - 1
    local msg = load_error('{"layers": [{"name": "a", "class": "x.A", "repeat": 4294967296, "sub_layers": [' ..
      '{"name": "b", ' .. LINEAR .. ', "repeat": 2147483648}]}]}')
    assert.matches("$.layers[0].sub_layers[0].repeat: the product of the repeat counts", msg, 1, true)
  end)

  it("checks that weights_tied_to names another basic layer", function ()
    local msg = load_error('{"layers": [{"name": "a", ' .. LINEAR .. ', "weights_tied_to": "nowhere.wte"}]}')
    assert.matches('$.layers[0].weights_tied_to: "nowhere.wte" names no layer', msg, 1, true)
  end)

  it("refuses nesting deeper than 256 JSON levels without crashing", function ()
    local msg = load_error(string.rep("[", 100000))
    assert.matches("nesting deeper than 256 levels", msg, 1, true)
  end)
end)
