-- The sandbox's memory cap holds across calls: a calculator's globals and upvalues outlive
-- each call, so what it keeps is measured and capped (LMP_CALC_MEMORY, 16 MiB by default),
-- not only what one call allocates (docs/security.md).
local lmp = require "lmp"
local h = require "spec.helpers"

-- a modules folder with spec.Hoard, which appends 1 MiB to a global (or to an upvalue of
-- the chunk) on every call
local function hoarder(where)
  local dir = h.tmpdir()
  local f = assert(io.open(dir .. "/spec_hoard.lua", "w"))
  f:write(where == "upvalue" and "local hoard = {}\n" or "hoard = {}\n", [[
return {
  full_class_name = "spec.Hoard",
  required_parameters = function () return { N = "int" } end,
  flops = function (p) hoard[#hoard + 1] = ("x"):rep(1048576 - 8) .. p.N return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
]])
  f:close()
  return dir
end

-- a model of n spec.Hoard layers, each with its own N (so that no result is reused)
local function model(n)
  local layers = {}
  for i = 1, n do layers[i] = ('{"name": "l%d", "class": "spec.Hoard", "parameters": {"N": %d}}'):format(i, i) end
  return h.model("[" .. table.concat(layers, ",") .. "]")
end

describe("sandbox memory across calls", function ()
  for _, where in ipairs({ "global", "upvalue" }) do
    it("stops a calculator that keeps 1 MiB more in a " .. where .. " on every call", function ()
      local dir, path = hoarder(where), model(200)
      local out, err, code = h.run("analyze", "--model-json", path, "--modules", dir)
      assert.are.equal(3, code, err)
      assert.are.equal("", out)
      -- measured again each time calls have added 16 MiB: stopped at 17-32 MiB, not 200
      local mib = tonumber(err:match("spec_hoard%.lua keeps (%d+) MiB between calls"))
      assert.is_truthy(mib, err)
      assert.is_true(mib > 16 and mib <= 33, err)
      assert.matches("over the memory cap of 16 MiB (LMP_CALC_MEMORY)", err, 1, true)
      assert.are.equal(1, select(2, err:gsub("\n", "")), err)
      os.remove(path)
    end)
  end

  it("keeps the process's peak RSS bounded (VmHWM, read in a child process)", function ()
    local dir, path = hoarder("global"), model(200)
    local script = h.write(([[
      local lmp = require "lmp"
      lmp.set_module_paths({ %q })
      local ok, err = pcall(lmp.analyze, %q)
      local status = io.open("/proc/self/status"):read("a")
      print(ok, err and err.message, status:match("VmHWM:%%s*(%%d+) kB"))
    ]]):format(dir, path), ".lua")
    local out, err = h.run(script)
    local kb = tonumber(out:match("(%d+)\n$"))
    assert.is_truthy(kb, out .. err)
    assert.matches("^false\t.-keeps %d+ MiB between calls", out)
    -- 200 calls would keep 200 MiB; stopped by ~32 MiB, plus lmp itself (~20 MB)
    assert.is_true(kb < 100 * 1024, ("peak RSS %d kB"):format(kb))
    os.remove(script)
    os.remove(path)
  end)

  it("caps what all calculators keep together at 8 times the cap", function ()
    -- LMP_CALC_MEMORY = 1 MiB: each calculator keeps a 450 KiB string from its load (under
    -- the cap); the 19th takes the total past 8 MiB, noticed within the next MiB of growth
    local script = h.write([[
      local core = require "lmp.core"
      for i = 1, 30 do
        local ok, err = pcall(core.load_calculator, "c" .. i .. ".lua", "kept = ('x'):rep(450 * 1024) " .. [=[
          return { full_class_name = "spec.C", required_parameters = function () return {} end,
            flops = function () return #kept * 0 end, matmul_flops = function () return 0 end, params = function () return 0 end,
            memory = function () return { reads = 0, writes = 0, intermediates = 0 } end }]=])
        if not ok then print(i, err.message) return end
        _G["calc" .. i] = err -- the host holds on to every calculator
      end
      print("none refused")
    ]], ".lua")
    local out, err = h.run_env({ LMP_CALC_MEMORY = "1048576" }, script)
    local n, msg = out:match("^(%d+)\t(.*)\n$")
    assert.is_truthy(n, out .. err)
    assert.is_true(tonumber(n) >= 19 and tonumber(n) <= 21, out)
    assert.matches("the calculators keep %d+ MiB between calls together, over 8 times the memory cap of 1 MiB", msg)
    os.remove(script)
  end)

  it("leaves calculators that keep little alone, over many calls", function ()
    -- 2,000 Linear layers: each call allocates its parameters and results, and keeps nothing
    local layers = {}
    for i = 1, 2000 do
      layers[i] = ('{"name": "l%d", "class": "torch.nn.modules.linear.Linear", "parameters": {"N": %d, "in_features": 2, "out_features": 3, "bias": false}}'):format(i, i)
    end
    local path = h.model("[" .. table.concat(layers, ",") .. "]")
    -- sum over N = 1..2000 of 2*N*2*3 = 12 * 2000*2001/2 = 24,012,000
    assert.are.equal(24012000, lmp.analyze(path).totals.matmul_flops)
    os.remove(path)
  end)
end)
