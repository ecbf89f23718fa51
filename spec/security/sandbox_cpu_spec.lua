-- The sandbox's CPU budget holds against calculators that try to escape it: catching the
-- budget error with pcall, doing the work inside one C call (a backtracking pattern, a
-- string.rep of "", a table.move over nils, ...), or asking Ctrl-C to be caught. Each attack
-- runs in a child lmp under `timeout`, so that an attack which is not stopped fails the spec
-- instead of hanging it; each asserts the bound in CPU seconds (docs/security.md).
local lmp = require "lmp"
local h = require "spec.helpers"

-- calculator(flops_body [, top]) -> a modules folder holding spec.Attack, whose flops() runs
-- flops_body and whose chunk runs top when it is loaded
local function calculator(flops_body, top)
  local dir = h.tmpdir()
  local f = assert(io.open(dir .. "/spec_attack.lua", "w"))
  f:write((top or ""), "\nreturn {\n  full_class_name = 'spec.Attack',\n",
    "  required_parameters = function () return { N = 'int' } end,\n",
    "  flops = function (p) ", flops_body, "\n return 0 end,\n",
    "  matmul_flops = function (p) return 0 end,\n  params = function (p) return 0 end,\n",
    "  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,\n}\n")
  f:close()
  return dir
end

-- attack(args...) -> stderr, exit code, CPU seconds of `lmp args...`, killed after 60 s
local function attack(...)
  local seconds, _, err, code = h.cpu_seconds(h.run_prefixed, "timeout 60", ...)
  return err, code, seconds
end

local function flops(dir) return attack("module", "flops", "spec.Attack", "N=1", "--modules", dir) end

-- seconds: the bound for a normal build (10^7 instructions take ~0.1 s; the CPU-time cap is 2 s)
local cases = {
  { "catches the budget error with pcall", "while true do pcall(function () while true do end end) end", 1 },
  { "catches it with pcall(pcall, ...)", "while true do pcall(pcall, function () while true do end end) end", 1 },
  { "catches a refused allocation and goes on", "while true do pcall(function () local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1e6 + i) end end) end", 2 },
  { "backtracks in string.find", "local _ = ('a'):rep(30):find(('a*'):rep(40) .. 'b')", 1 },
  { "backtracks in string.match", "local _ = ('a'):rep(30):match(('a*'):rep(40) .. 'b')", 1 },
  { "backtracks in string.gsub", "local _ = ('a'):rep(30):gsub(('a*'):rep(40) .. 'b', '')", 1 },
  { "backtracks in string.gmatch", "for _ in ('a'):rep(30):gmatch(('a*'):rep(40) .. 'b') do end", 1 },
  { "scans with %b", "local s = ('('):rep(4e6) while true do local _ = s:find('%b()') end", 1 },
  { "searches plainly, n * m", "local s, p = ('a'):rep(4e6), ('a'):rep(2e6) .. 'b' local _ = s:find(p, 1, true)", 1 },
  { "repeats an empty string 10^15 times", "local _ = (''):rep(1e15)", 1 },
  { "repeats it with an empty separator", "local _ = string.rep('', 1e15, '')", 1 },
  { "copies large strings in a loop", "while true do local _ = ('x'):rep(8e6) end", 1 },
  { "moves 10^15 nils", "table.move({}, 1, 1e15, 2)", 1 },
  { "concatenates 10^5 empty strings in a loop", "local t = {} for i = 1, 1e5 do t[i] = '' end while true do local _ = table.concat(t) end", 1 },
  { "inserts at the front of a long list", "local t = {} for i = 1, 1e6 do t[i] = i end while true do table.insert(t, 1, 0) table.remove(t, 1) end", 1 },
  { "sorts a long list again and again", "local t = {} for i = 1, 2e5 do t[i] = i end while true do table.sort(t) end", 1 },
  { "sorts with a hostile comparator", "local t = {} for i = 1, 2e5 do t[i] = i end while true do pcall(table.sort, t, function (a, b) return true end) end", 1 },
  { "unpacks a long list again and again", "local t = {} for i = 1, 1e5 do t[i] = i end while true do local _ = select('#', table.unpack(t)) end", 1 },
  { "reads a long string byte by byte", "local s = ('x'):rep(1e5) while true do local _ = select('#', s:byte(1, -1)) end", 1 },
  { "measures a long pack format", "local f = ('i16'):rep(2e6) while true do local _ = string.packsize(f) end", 1 },
  { "formats with the widest widths", "while true do local _ = ('%99.99f'):format(1e308) end", 1 },
  { "reads a long string as a number", "local s = ('1'):rep(4e6) while true do local _ = tonumber(s) end", 1 },
  { "does arithmetic on a long string", "local s = ('1'):rep(4e6) while true do local _ = s + 0 end", 1 },
  { "floors a long string", "local s = ('1'):rep(4e6) while true do local _ = math.floor(s) end", 1 },
  -- one instruction comparing two 5 MB strings: stopped by the 2 s CPU-time cap
  { "compares long strings in a loop", "local a, b = ('x'):rep(5e6), ('x'):rep(5e6 - 1) .. 'x' while true do local _ = a == b end", 4 },
}

describe("sandbox CPU budget", function ()
  for _, case in ipairs(cases) do
    it("stops a calculator that " .. case[1] .. " (within " .. case[3] .. " s)", function ()
      local dir = calculator(case[2])
      local err, code, seconds = flops(dir)
      assert.are.equal(3, code, err)
      assert.matches("instruction budget exceeded", err, 1, true)
      assert.is_true(seconds < h.within(case[3]), ("took %.1f s"):format(seconds))
      assert.are.equal(1, select(2, err:gsub("\n", "")), err) -- one line
    end)
  end

  it("stops a calculator that catches the budget at load time, and module list goes on", function ()
    local dir = calculator("", "while true do pcall(function () while true do end end) end")
    local err, code, seconds = flops(dir)
    assert.are.equal(3, code, err)
    assert.matches("spec_attack.lua: instruction budget exceeded", err, 1, true)
    assert.is_true(seconds < h.within(1), ("took %.1f s"):format(seconds))
    local seconds_list, out, _, list_code = h.cpu_seconds(h.run_prefixed, "timeout 60", "module", "list", "--modules", dir)
    assert.is_true(seconds_list < h.within(2), ("took %.1f s"):format(seconds_list))
    assert.are_not.equal(124, list_code) -- not killed by timeout
    assert.matches("spec_attack.lua: instruction budget exceeded", out, 1, true)
  end)

  local interrupted = {
    { "a calculator that catches errors", "while true do pcall(function () while true do end end) end" },
    { "a pattern match that backtracks", "while true do pcall(string.find, ('a'):rep(30), ('a*'):rep(40) .. 'b') end" },
  }
  for _, case in ipairs(interrupted) do
    it("stops on Ctrl-C " .. case[1] .. ", whatever its budget", function ()
      local dir = calculator(case[2])
      local t0 = lmp.core.now_ms()
      -- SIGINT after 1 s; the outer timeout only guards the spec against a hang
      local _, err = h.run_prefixed("env LMP_CALC_INSTRUCTIONS=1000000000000000 LMP_CALC_SECONDS=100000 timeout 60 timeout --foreground -s INT 1",
        "module", "flops", "spec.Attack", "N=1", "--modules", dir)
      local seconds = (lmp.core.now_ms() - t0) / 1000
      assert.matches("spec_attack.lua: flops: interrupted!", err, 1, true)
      assert.is_true(seconds < h.within(3), ("took %.1f s"):format(seconds))
    end)
  end

  it("gives calculators no way to catch errors but pcall: no xpcall, coroutines, metatables or utf8", function ()
    local env = lmp.core.sandbox_env()
    for _, name in ipairs({ "xpcall", "coroutine", "setmetatable", "getmetatable", "debug", "utf8", "collectgarbage" }) do
      assert.is_nil(env[name], name .. " is reachable")
    end
    assert.are_not.equal(pcall, env.pcall) -- the sandbox's own, which passes the budget on
  end)

  it("leaves pcall working for ordinary errors, and the pattern functions as Lua's", function ()
    local env = lmp.core.sandbox_env()
    local ok, msg = env.pcall(error, "boom", 0)
    assert.is_false(ok)
    assert.are.equal("boom", msg)
    assert.are.same({ true, 1, 2 }, { env.pcall(function () return 1, 2 end) })
    assert.are.same({ 5, 7 }, { ("hello world"):find("o w") })
    assert.are.same({ 1, 5, "hello" }, { ("hello world"):find("(%a+)") })
    assert.are.same({ "aabbcc", 3 }, { ("abc"):gsub("%w", "%0%0") })
    assert.are.equal("(x)", ("a(x)b"):match("%b()"))
    local words = {}
    for w in ("one two three"):gmatch("%a+") do words[#words + 1] = w end
    assert.are.same({ "one", "two", "three" }, words)
    assert.are.equal("xxx", ("x"):rep(3))
    assert.are.equal("a,a", ("a"):rep(2, ","))
  end)
end)
