-- A moved checkout rebuilds: scripts/build.sh notices that build/CMakeCache.txt was made
-- for another source folder and configures afresh instead of failing.
local h = require "spec.helpers"
local shell = require "spec.install.shell"

-- what a build needs from the checkout
local SOURCES = "CMakeLists.txt cmake src lua modules_lua models module_db.json packaging scripts tests docs"

describe("scripts/build.sh in a moved checkout", function ()
  if not (shell.has("cmake") and shell.has("cc")) then
    pending("cmake or a C compiler is missing (scripts/deps.sh installs them)")
    return
  end
  local dir
  setup(function () dir = h.tmpdir() end)
  teardown(function () shell.run("rm -rf " .. shell.q(dir)) end)

  it("reconfigures and builds an lmp that runs", function ()
    -- a copy of this checkout with its build folder, whose cache names this checkout
    local moved = dir .. "/moved"
    local _, err, code = shell.run(("mkdir %s && cp -R %s %s/ && cp -R %s %s/build")
      :format(shell.q(moved), SOURCES, shell.q(moved), shell.q(shell.build_dir), shell.q(moved)))
    assert.equal(0, code, err)
    _, err, code = shell.run(shell.q(moved) .. "/scripts/build.sh plain")
    assert.equal(0, code, err)
    local was = lmp.core.read_file(shell.build_dir .. "/CMakeCache.txt"):match("\nCMAKE_HOME_DIRECTORY:INTERNAL=([^\n]*)")
    assert.equal(("lmp: build/ was configured for %s; configuring it again for %s\n"):format(was, moved), err)
    assert.is_truthy(lmp.core.read_file(moved .. "/build/CMakeCache.txt"):find("CMAKE_HOME_DIRECTORY:INTERNAL=" .. moved, 1, true))
    local out
    out, err, code = shell.isolated(moved .. "/build/lmp", "-e " .. shell.q("print(lmp.home)"))
    assert.equal(0, code, err)
    assert.equal(moved .. "\n", out)
    -- and a second run has nothing to say
    _, err, code = shell.run(shell.q(moved) .. "/scripts/build.sh plain")
    assert.equal(0, code, err)
    assert.equal("", err)
  end)
end)
