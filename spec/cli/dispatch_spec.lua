-- `lmp word ...`: a command of lmp.cli (cli.COMMANDS, help, version, --modules) or a script;
-- main.c asks cli.takes, so a file named like a command does not hide the command.
local lmp = require "lmp"
local h = require "spec.helpers"
local cli = require "lmp.cli"

local function run_in(dir, args)
  return h.sh("cd '" .. dir .. "' && '" .. h.exe .. "' " .. args)
end

describe("command or script", function ()
  it("takes every command, help, the version and --modules, and no script word", function ()
    for _, c in ipairs(cli.COMMANDS) do assert.are.equal(not c.script, cli.takes(c.name), c.name) end
    for _, w in ipairs({ "help", "--help", "-h", "version", "--version", "--modules", "--modules=dir" }) do
      assert.is_true(cli.takes(w), w)
    end
    for _, w in ipairs({ "-e", "-", "-i", "x.lua", "repl", "analyse" }) do assert.is_false(cli.takes(w), w) end
  end)

  it("starts a script or -e without loading the CLI or the reports (start-up time)", function ()
    local script = h.tmpdir() .. "/s.lua"
    local f = assert(io.open(script, "w"))
    f:write("print(package.loaded['lmp.cli'] == nil, package.loaded['lmp.report'] == nil)\n")
    f:close()
    for _, args in ipairs({ "-e \"print(package.loaded['lmp.cli'] == nil, package.loaded['lmp.report'] == nil)\"",
                            "'" .. script .. "'" }) do
      local out, _, code = h.sh("'" .. h.exe .. "' " .. args)
      assert.are.equal(0, code)
      assert.are.equal("true\ttrue\n", out, args)
    end
  end)

  it("runs the command even when a file of its name is in the folder", function ()
    local dir = h.tmpdir()
    for _, name in ipairs({ "help", "models", "version" }) do
      local f = assert(io.open(dir .. "/" .. name, "w"))
      f:write("print('the file ran')\n")
      f:close()
    end
    local out, _, code = run_in(dir, "help")
    assert.are.equal(0, code)
    assert.matches("usage: lmp", out, 1, true)
    out = run_in(dir, "version")
    assert.are.equal(("lmp %s (%s)\n"):format(lmp.version, _VERSION), out)
    out = run_in(dir, "models")
    assert.matches("meta-llama/Llama-2-7b-hf", out, 1, true)
    assert.are.equal("the file ran\n", (run_in(dir, "./help")))
  end)

  it("runs a file named like no command as a script", function ()
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/script", "w"))
    f:write("print('script ran', ...)\n")
    f:close()
    assert.are.equal("script ran\ta\n", (run_in(dir, "script a")))
  end)
end)
