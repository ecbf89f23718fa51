-- Error messages come through whole, however long what they quote (once cut at 1024 bytes
-- and less), and stay one line.
local lmp = require "lmp"
local h = require "spec.helpers"

local LONG = string.rep("x", 3000)

describe("long error messages", function ()
  it("keep all of a calculator's error, on one line", function ()
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/spec_long_error.lua", "w"))
    f:write([[
return {
  full_class_name = "spec.LongError",
  required_parameters = function () return { N = "int" } end,
  flops = function () error("first line\n]] .. LONG .. [[", 0) end,
  matmul_flops = function () return 0 end,
  params = function () return 0 end,
  memory = function () return { reads = 0, writes = 0, intermediates = 0 } end,
}
]])
    f:close()
    lmp.set_module_paths({ dir })
    local ok, err = pcall(lmp.compute, "spec.LongError", { N = 1 })
    lmp.set_module_paths()
    assert.is_false(ok)
    assert.are.equal(lmp.EXIT.CALC, err.code)
    assert.matches("spec_long_error.lua: flops: first line " .. LONG, err.message, 1, true)
    assert.are.equal(LONG, err.message:sub(-#LONG))
    assert.is_nil(err.message:find("\n", 1, true))
  end)

  it("keep a formula's long name", function ()
    local err = h.error_of(lmp.core.eval, "${" .. LONG .. "} + 1", {})
    assert.matches("unknown parameter '" .. LONG .. "'", err.message, 1, true)
  end)

  it("keep a model file's long formula", function ()
    local text = "{" .. LONG .. " +"
    local err = h.error_of(lmp.core.load_model, h.model(
      '[{"name": "a", "class": "torch.nn.modules.linear.Linear", "parameters": {"in_features": "' .. text .. '"}}]'))
    assert.matches('formula "' .. text .. '": column ', err.message, 1, true)
  end)

  it("keep a model file's long JSON path", function ()
    local err = h.error_of(lmp.core.load_model, h.model(
      '[{"name": "a", "class": "torch.nn.modules.linear.Linear", "parameters": {"' .. LONG .. '": [1]}}]'))
    assert.matches(": $.layers[0].parameters." .. LONG .. ": ", err.message, 1, true)
  end)

  it("keep a long path", function ()
    local path = "/nonexistent/" .. string.rep("d", 2000)
    local err = h.error_of(lmp.core.read_file, path)
    assert.are.equal(path .. ": cannot open: No such file or directory", err.message)
  end)
end)
