-- The Debian package (cpack -G DEB): its contents, its dependencies, a binary that runs
-- from the extracted tree, and a man page that covers lmp --help. (Installing it with apt
-- on a fresh Debian 12 is checked by hand: README.md, Install.)
local h = require "spec.helpers"
local shell = require "spec.install.shell"
local core = require "lmp.core"

local function man_page()
  return core.read_file("packaging/lmp.1")
end

describe("the man page", function ()
  it("documents every command and option of lmp --help and lmp COMMAND --help, and the exit codes", function ()
    local help = assert(shell.run(shell.q(shell.exe) .. " --help"))
    for _, c in ipairs(require("lmp.cli").COMMANDS) do
      if not c.script then help = help .. assert(shell.run(shell.q(shell.exe) .. " " .. c.name .. " --help")) end
    end
    local page = man_page():gsub("\\%-", "-"):gsub("\\f[BIRP]", "")
    local seen = 0
    for opt in help:gmatch("%-%-[%a][%w-]*") do
      assert.is_truthy(page:find(opt, 1, true), opt .. " is not in packaging/lmp.1")
      seen = seen + 1
    end
    for cmd in help:gmatch("\n  lmp ([%a][%w-]*)") do
      if cmd ~= "script" then assert.is_truthy(page:find(cmd, 1, true), cmd .. " is not in packaging/lmp.1") end
    end
    assert.is_true(seen > 20)
    for name, code in pairs(core.EXIT) do
      assert.is_truthy(page:find("\n.B " .. code .. "\n", 1, true), ("exit code %d (%s)"):format(code, name))
    end
    for _, section in ipairs({ "SYNOPSIS", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES" }) do
      assert.is_truthy(page:find("\n.SH " .. section, 1, true), section)
    end
  end)
end)

describe("cpack -G DEB", function ()
  local missing
  for _, tool in ipairs({ "cpack", "dpkg-deb" }) do
    if not shell.has(tool) then missing = tool end
  end
  if missing or not (shell.build_dir and core.file_kind(shell.build_dir .. "/CPackConfig.cmake") == "file") then
    pending(missing and (missing .. " is not installed (cmake and dpkg provide it)")
      or "LMP_EXE is not in a CMake build folder: no CPackConfig.cmake")
    return
  end
  local dir, deb
  setup(function ()
    dir = h.tmpdir()
    local _, err, code = shell.run(("cd %s && cpack -G DEB -B %s >/dev/null"):format(shell.q(shell.build_dir), shell.q(dir)))
    assert(code == 0, err)
    for _, name in ipairs(core.listdir(dir)) do
      if name:match("^lmp_.*%.deb$") then deb = dir .. "/" .. name end
    end
  end)
  teardown(function () shell.run("rm -rf " .. shell.q(dir)) end)

  it("builds lmp_VERSION_ARCH.deb holding /usr/bin/lmp, the data, the man page and the completion", function ()
    assert.matches("/lmp_" .. lmp.version:gsub("%p", "%%%0") .. "_[%w]+%.deb$", deb)
    local listing = assert(shell.run("dpkg-deb -c " .. shell.q(deb)))
    for _, rel in ipairs(shell.INSTALLED) do
      assert.matches(" %./usr/" .. rel:gsub("%p", "%%%0") .. "\n", listing)
    end
    for _, name in ipairs(core.listdir("models")) do assert.matches("/usr/share/lmp/models/" .. name, listing, 1, true) end
  end)

  it("depends on the libraries lmp links and on libcurl4, which it opens at run time", function ()
    local depends = assert(shell.run("dpkg-deb -f " .. shell.q(deb) .. " Depends"))
    for _, pkg in ipairs({ "libc6", "liblua5.4-0", "libedit2", "libcurl4" }) do
      assert.matches("%f[%w]" .. pkg:gsub("%p", "%%%0") .. "%f[^%w.-]", depends)
    end
    assert.is_nil(depends:find("lua-cjson", 1, true)) -- a test-only package
  end)

  it("extracts to a tree whose usr/bin/lmp runs from / on usr/share/lmp", function ()
    local root = dir .. "/root"
    local _, err, code = shell.run(("dpkg-deb -x %s %s"):format(shell.q(deb), shell.q(root)))
    assert.equal(0, code, err)
    local exe = root .. "/usr/bin/lmp"
    local out
    out, err, code = shell.isolated(exe, "-e " .. shell.q("print(lmp.home)"))
    assert.equal(0, code, err)
    assert.equal(root .. "/usr/share/lmp\n", out)
    out, err, code = shell.isolated(exe, "analyze --format json --model-json " .. shell.q(root .. "/usr/share/lmp/models/llama-2-7b-hf.json"))
    assert.equal(0, code, err)
    assert.equal(shell.LLAMA2_7B_PARAMS, shell.params(out))
    local page = assert(shell.run("gzip -dc " .. shell.q(root .. "/usr/share/man/man1/lmp.1.gz")))
    assert.equal(man_page(), page)
  end)
end)
