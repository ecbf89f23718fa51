-- Every limit has a default, an override where users need one, and a clear error when hit.
local lmp = require "lmp"
local h = require "spec.helpers"

local LINEAR = '{"name": "fc", "class": "torch.nn.modules.linear.Linear", "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}}'

describe("limits", function ()
  it("model file size: LMP_MAX_MODEL_BYTES", function ()
    local path = h.model("[" .. LINEAR .. "]")
    local _, err, code = h.run_env({ LMP_MAX_MODEL_BYTES = "100" }, "analyze", "--model-json", path)
    assert.are.equal(2, code)
    assert.matches("over the limit of 100 %(LMP_MAX_MODEL_BYTES raises it%)", err)
    _, err, code = h.run_env({ LMP_MAX_MODEL_BYTES = "100000" }, "analyze", "--model-json", path)
    assert.are.equal(0, code, err)
    os.remove(path)
  end)

  it("number of layers: LMP_MAX_LAYERS", function ()
    local path = h.model("[" .. LINEAR .. "," .. LINEAR .. "," .. LINEAR .. "]")
    local _, err, code = h.run_env({ LMP_MAX_LAYERS = "2" }, "analyze", "--model-json", path)
    assert.are.equal(2, code)
    assert.matches("$.layers[2]: more than 2 layers (the limit; LMP_MAX_LAYERS raises it)", err, 1, true)
    _, err, code = h.run_env({ LMP_MAX_LAYERS = "3" }, "analyze", "--model-json", path)
    assert.are.equal(0, code, err)
    os.remove(path)
  end)

  it("layer nesting: 64 levels of sub_layers", function ()
    local function nested(levels)
      local s = LINEAR
      for i = 1, levels - 1 do s = ('{"name": "b%d", "class": "x.Block", "sub_layers": [%s]}'):format(i, s) end
      return "[" .. s .. "]"
    end
    local ok = h.model(nested(64))
    assert.are.equal(12, lmp.analyze(ok).totals.matmul_flops) -- 2*1*2*3
    local bad = h.model(nested(65))
    local err = h.error_of(lmp.load_model, bad)
    assert.matches("layers nested deeper than 64 levels", err.message, 1, true)
    os.remove(ok)
    os.remove(bad)
  end)

  it("calculator instruction budget and memory cap: LMP_CALC_INSTRUCTIONS, LMP_CALC_MEMORY", function ()
    local args = { "module", "flops", "torch_Linear", "N=1", "in_features=2", "out_features=3", "bias=false" }
    local _, err, code = h.run_env({ LMP_CALC_INSTRUCTIONS = "10" }, table.unpack(args)) -- Linear runs ~100 VM instructions
    assert.are.equal(3, code)
    assert.matches("instruction budget exceeded", err, 1, true)
    local out
    out, err, code = h.run_env({ LMP_CALC_INSTRUCTIONS = "100000000" }, table.unpack(args))
    assert.are.equal(0, code, err)
    assert.are.equal("flops 12\nmatmul_flops 12\n", out)
    _, err, code = h.run_env({ LMP_CALC_MEMORY = "1048576" }, "module", "flops", "spec.Hog", "N=1",
      "--modules", h.fixtures .. "/modules")
    assert.are.equal(3, code)
    assert.matches("memory cap of 1 MiB exceeded", err, 1, true)
  end)

  it("HTTP response size: LMP_HTTP_MAX_BYTES", function ()
    local big = '{"model_type": "llama", "pad": "' .. string.rep("x", 5 * 1024 * 1024) .. '"}'
    local hub = h.fake_server({ { path = "/org/big/resolve/main/config.json", body = big } })
    local env = { HF_ENDPOINT = hub.url, HF_HOME = h.tmpdir(), LMP_CACHE = h.tmpdir(), HF_HUB_OFFLINE = "", HF_TOKEN = "" }
    local _, err, code = h.run_env(env, "analyze", "--model-id", "org/big")
    hub.stop()
    assert.are.equal(2, code)
    assert.matches("response larger than 4194304 bytes", err, 1, true)
  end)

  -- already covered where they live: JSON nesting (spec/core/model_spec.lua, 256 levels),
  -- repeat products past 2^63-1 (spec/core/model_spec.lua), formula length (4096) and depth
  -- (64) (spec/core/formula_spec.lua), sandbox budget and cap defaults (spec/core/sandbox_spec.lua)
end)
