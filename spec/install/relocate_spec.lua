-- A copied lmp works anywhere: the bundled calculators, module_db.json and models are
-- compiled in and read as the folder "(bundled)"; a bad LMP_HOME is one line and exit 2.
local h = require "spec.helpers"
local shell = require "spec.install.shell"
local core = require "lmp.core"

-- every file embedded, as the build globs them
local function data_files()
  local out = { "module_db.json" }
  for _, dir in ipairs({ "modules_lua", "models", "hardware", "docs", "python" }) do
    for _, name in ipairs(core.listdir(dir)) do
      if name:match("%.lua$") or name:match("%.json$") or name:match("%.md$") or name:match("%.py$") then out[#out + 1] = dir .. "/" .. name end
    end
  end
  return out
end

describe("the bundled data compiled into lmp", function ()
  it("holds every data file of the checkout, byte for byte", function ()
    local files = data_files()
    assert.is_true(#files > 50)
    for _, rel in ipairs(files) do
      assert.equal(core.read_file(rel), core.read_file("(bundled)/" .. rel), rel)
    end
  end)

  it("is a read-only folder that file_kind and listdir see", function ()
    assert.equal("directory", core.file_kind("(bundled)"))
    assert.equal("directory", core.file_kind("(bundled)/models"))
    assert.equal("file", core.file_kind("(bundled)/models/llama-2-7b-hf.json"))
    assert.equal("file", core.file_kind("(bundled)//models/./../module_db.json"))
    assert.is_nil(core.file_kind("(bundled)/models/nope.json"))
    assert.is_nil(core.file_kind("(bundled)x/module_db.json")) -- only the folder itself is special
    assert.same({ "docs", "hardware", "models", "module_db.json", "modules_lua", "python" }, core.listdir("(bundled)"))
    assert.same(core.listdir("hardware"), core.listdir("(bundled)/hardware"))
    assert.same(core.listdir("models"), core.listdir("(bundled)/models"))
    assert.same(core.listdir("modules_lua"), core.listdir("(bundled)/modules_lua"))
    local none, err = core.listdir("(bundled)/nope")
    assert.is_nil(none)
    assert.equal("(bundled)/nope: not a folder of the bundled data", err)
  end)

  it("gives one-line errors for what is not in it", function ()
    local err = h.error_of(core.read_file, "(bundled)/models/nope.json")
    assert.equal("(bundled)/models/nope.json: cannot open: not in the bundled data", err.message)
    err = h.error_of(core.read_file, "(bundled)/models")
    assert.equal("(bundled)/models: cannot open: Is a directory", err.message)
  end)

  it("gives the agent's prompt the calculator contract and the worked examples", function ()
    local prompt = require "lmp.agent.prompt"
    local ctx = { full_class_name = "torch.nn.modules.activation.Mish", key = "torch_Mish", file = "x.lua",
                  db = require("lmp.db").load("(bundled)/module_db.json") }
    ctx.home = "(bundled)"
    local _, bundled = prompt.build(ctx)
    ctx.home = "."
    local _, checkout = prompt.build(ctx)
    assert.equal(checkout, bundled)
    assert.matches("# The calculator contract (docs/calculators.md)", bundled, 1, true)
    assert.matches("```lua\n", bundled, 1, true)
  end)

  it("loads a bundled model by path, which names it", function ()
    local model = lmp.load_model("(bundled)/models/llama-2-7b-hf.json")
    assert.equal("(bundled)/models/llama-2-7b-hf.json", model.file)
    assert.equal(shell.LLAMA2_7B_PARAMS, lmp.analyze(model, { seq_len = 16 }).totals.params)
  end)
end)

describe("a copy of the lmp binary alone", function ()
  local dir, exe, model
  setup(function ()
    dir = h.tmpdir()
    exe = dir .. "/bin/lmp"
    model = dir .. "/elsewhere/llama.json"
    assert(shell.run(("mkdir -p %s/bin %s/elsewhere && cp %s %s && cp models/llama-2-7b-hf.json %s")
      :format(shell.q(dir), shell.q(dir), shell.q(shell.exe), shell.q(exe), shell.q(model))))
  end)
  teardown(function () shell.run("rm -rf " .. shell.q(dir)) end)

  it("analyzes a model by path from / (LMP_HOME=(bundled): nothing but the binary)", function ()
    for _, env in ipairs({ {}, { LMP_HOME = "(bundled)" } }) do
      local out, err, code = shell.isolated(exe, "analyze --format json --model-json " .. shell.q(model), env)
      assert.equal(0, code, err)
      assert.equal(6738415616, shell.params(out))
      assert.equal(shell.LLAMA2_7B_PARAMS, shell.params(out))
    end
  end)

  it("uses the compiled-in calculators, db and models, and names them (bundled)/...", function ()
    local env = { LMP_HOME = "(bundled)" }
    local out, err, code = shell.isolated(exe, "-e " .. shell.q("print(lmp.home, lmp.db_path)"), env)
    assert.equal(0, code, err)
    assert.equal("(bundled)\t(bundled)/module_db.json\n", out)
    out, err, code = shell.isolated(exe, "module show torch.nn.modules.linear.Linear", env)
    assert.equal(0, code, err)
    assert.matches("calculator  %(bundled%)/modules_lua/torch_linear%.lua\n", out)
    assert.matches("module_db.json formulas", out, 1, true)
    out, err, code = shell.isolated(exe, "module list", env)
    assert.equal(0, code, err)
    local _, bundled = ("\n" .. out):gsub("\n[%w_]+ +[%w_.]+ +bundled", "")
    assert.equal(#core.listdir("modules_lua"), bundled)
    assert.matches(("\n%d calculators\n$"):format(bundled), out)
    out, err, code = shell.isolated(exe, "analyze --format json --model-json '(bundled)/models/llama-2-7b-hf.json'", env)
    assert.equal(0, code, err)
    assert.equal(shell.LLAMA2_7B_PARAMS, shell.params(out))
    -- the listing another command reads models from
    out = shell.isolated(exe, "-e " .. shell.q("print(table.concat(lmp.core.listdir(lmp.home .. '/models'), ' '))"), env)
    assert.equal(table.concat(core.listdir("models"), " ") .. "\n", out)
  end)

  it("says in one line, exit 2, when LMP_HOME holds no data, and never asks an LLM", function ()
    local empty = h.tmpdir()
    local server = h.fake_server({})
    local out, err, code = shell.isolated(exe, "analyze --model-json " .. shell.q(model),
      { LMP_HOME = empty, ANTHROPIC_API_KEY = "sk-spec", ANTHROPIC_BASE_URL = server.url })
    local requests = server.requests()
    server.stop()
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal(("lmp: LMP_HOME=%s: no module_db.json and modules_lua/ there (unset LMP_HOME to use the data built into lmp)\n")
      :format(empty), err)
    assert.equal("", requests) -- no request reached the LLM API
  end)
end)
