-- The bash completion (packaging/lmp.bash-completion) offers subcommands, options, bundled
-- model ids and calculator class names: bash with the script sourced calls _lmp with
-- COMP_WORDS as bash would.
local shell = require "spec.install.shell"

-- complete(words...) -> the sorted candidates for the last word
local function complete(...)
  local words = { shell.q(shell.exe) }
  for _, w in ipairs({ ... }) do words[#words + 1] = shell.q(w) end
  local script = "source packaging/lmp.bash-completion; COMP_WORDS=(" .. table.concat(words, " ") .. "); "
    .. "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _lmp; printf '%s\\n' \"${COMPREPLY[@]}\" | sort"
  local out, err, code = shell.run("bash --norc --noprofile -c " .. shell.q(script))
  assert.equal(0, code, err)
  local got = {}
  for line in out:gmatch("[^\n]+") do got[#got + 1] = line end
  return got
end

describe("bash completion", function ()
  if not shell.has("bash") then
    pending("bash is not installed")
    return
  end

  it("offers the subcommands first, and those under module and db", function ()
    local got = complete("")
    for _, cmd in ipairs({ "analyze", "db", "export", "generate", "help", "module", "repl" }) do
      assert.is_truthy(table.concat(got, " "):find("%f[%w]" .. cmd .. "%f[^%w]"), cmd)
    end
    assert.same({ "analyze" }, complete("an"))
    assert.same({ "show" }, complete("module", "sh"))
    assert.same({ "check" }, complete("db", ""))
  end)

  it("offers options and their values", function ()
    assert.same({ "--format" }, complete("analyze", "--form"))
    assert.same({ "--kv-bits", "--kv-len" }, complete("analyze", "--kv-"))
    assert.same({ "decode", "generate", "prefill", "train" }, complete("analyze", "--phase", ""))
    assert.same({ "csv" }, complete("analyze", "--format", "c"))
    assert.same({ "nf4" }, complete("analyze", "--w-bits", "n"))
    -- each command's own options: --force is generate's, --revision analyze's and export's
    assert.same({ "--force", "--full-class-name" }, complete("generate", "--f"))
    assert.same({}, complete("analyze", "--forc"))
    assert.same({ "--revision" }, complete("export", "--rev"))
  end)

  it("offers the bundled model ids and model files", function ()
    assert.same({ "meta-llama/Llama-2-70b-hf", "meta-llama/Llama-2-7b-hf" },
      complete("analyze", "--model-id", "meta-llama/Llama-2"))
    assert.same({ "models/llama-2-70b-hf.json", "models/llama-2-7b-hf.json" },
      complete("analyze", "--model-json", "models/llama-2"))
  end)

  it("offers calculator class names", function ()
    assert.same({ "torch.nn.modules.linear.Linear" }, complete("module", "flops", "torch.nn.modules.linear.L"))
    assert.same({ "torch.nn.modules.linear.Linear" }, complete("generate", "--full-class-name", "torch.nn.modules.linear.L"))
  end)
end)
