-- cmake --install puts bin/lmp and its data under a prefix, and the installed lmp finds
-- that data (P/share/lmp) from wherever it is run.
local h = require "spec.helpers"
local shell = require "spec.install.shell"
local core = require "lmp.core"

describe("cmake --install", function ()
  if not (shell.build_dir and core.file_kind(shell.build_dir .. "/CMakeCache.txt") == "file") then
    pending("LMP_EXE is not in a CMake build folder: nothing to install from")
    return
  end
  local prefix
  setup(function () prefix = h.tmpdir() .. "/prefix with space" end)
  teardown(function () shell.run("rm -rf " .. shell.q(prefix)) end)

  it("installs the binary, the data, the man page and the completion", function ()
    local _, err, code = shell.run(("cmake --install %s --prefix %s"):format(shell.q(shell.build_dir), shell.q(prefix)))
    assert.equal(0, code, err)
    for _, rel in ipairs(shell.INSTALLED) do assert.equal("file", core.file_kind(prefix .. "/" .. rel), rel) end
    assert.same(core.listdir("models"), core.listdir(prefix .. "/share/lmp/models"))
    assert.same(core.listdir("modules_lua"), core.listdir(prefix .. "/share/lmp/modules_lua"))
    assert.equal(core.read_file("module_db.json"), core.read_file(prefix .. "/share/lmp/module_db.json"))
  end)

  it("gives a binary that runs from / on its share/lmp", function ()
    local exe = prefix .. "/bin/lmp"
    local out, err, code = shell.isolated(exe, "-e " .. shell.q("print(lmp.home)"))
    assert.equal(0, code, err)
    assert.equal(prefix .. "/share/lmp\n", out)
    out, err, code = shell.isolated(exe, "analyze --format json --model-json " .. shell.q(prefix .. "/share/lmp/models/llama-2-7b-hf.json"))
    assert.equal(0, code, err)
    assert.equal(shell.LLAMA2_7B_PARAMS, shell.params(out))
    out, err, code = shell.isolated(exe, "module show torch.nn.modules.linear.Linear")
    assert.equal(0, code, err)
    assert.matches("calculator  " .. prefix:gsub("%p", "%%%0") .. "/share/lmp/modules_lua/torch_linear.lua\n", out)
  end)
end)

