-- The golden outputs (docs/golden.md): every case of spec/golden/golden.lua run again as a
-- separate lmp process and compared byte for byte with spec/fixtures/golden/.
local lmp = require "lmp"
local golden = require "spec.golden.golden"
local h = require "spec.helpers"

describe("golden.difference", function ()
  it("names the first differing line, or the end of the shorter text", function ()
    assert.is_nil(golden.difference("a\nb\n", "a\nb\n"))
    assert.are.equal("line 2 differs:\n  expected: b\n  actual:   c", golden.difference("a\nb\n", "a\nc\n"))
    assert.are.equal("line 2 differs:\n  expected: b\n  actual:   (end of file)", golden.difference("a\nb", "a"))
    -- a missing final newline is a difference too (the sizes in the header show it)
    assert.are.equal("line 3 differs:\n  expected: \n  actual:   (end of file)", golden.difference("a\nb\n", "a\nb"))
  end)
end)

describe("golden outputs", function ()
  local cases = golden.cases()
  local runner

  setup(function () runner = golden.runner(h.exe) end)
  teardown(function () runner.close() end)

  for _, case in ipairs(cases) do
    it(case.name, function ()
      local expected = golden.expected(case)
      assert(expected, ("%s is missing; write it with %s"):format(golden.path(case), golden.REFRESH))
      local diff = golden.difference(expected, runner.run(case))
      assert(diff == nil, ("%s: %s\nif the change is intended: %s (and say why in the commit)")
        :format(golden.path(case), diff, golden.REFRESH))
    end)
  end

  it("has a case for every file in " .. golden.DIR, function ()
    local wanted = {}
    for _, case in ipairs(cases) do wanted[case.name .. ".txt"] = true end
    local stale = {}
    for _, name in ipairs(assert(lmp.core.listdir(golden.DIR))) do
      if not wanted[name] then stale[#stale + 1] = name end
    end
    assert(#stale == 0, ("no case writes %s; %s removes it"):format(table.concat(stale, ", "), golden.REFRESH))
  end)
end)
