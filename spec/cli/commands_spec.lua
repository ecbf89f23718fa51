-- The command line as a new user drives it: help for every command, --modules anywhere,
-- a model as a positional argument, bundled models by id offline, sizes and bit widths
-- as people type them, one `lmp:` prefix, write errors, and a table that fits.
local lmp = require "lmp"
local cli = require "lmp.cli"
local h = require "spec.helpers"

local LLAMA_ID, LLAMA_PARAMS = "meta-llama/Llama-2-7b-hf", 6738415616 -- the published count
local GPT2_PARAMS = 124439808 -- openai-community/gpt2, lm_head tied to wte

-- no cache, no network: a bundled model must need neither
local function offline_env()
  return { HF_HOME = h.tmpdir(), LMP_CACHE = h.tmpdir(), HF_HUB_CACHE = "", HF_HUB_OFFLINE = "1",
           HF_ENDPOINT = "http://127.0.0.1:9", HF_TOKEN = "", HF_TOKEN_PATH = "" }
end

local function params_of(out) return lmp.json_decode(out).totals.params end

describe("help", function ()
  it("prints each command's help for --help, -h and lmp help COMMAND, exit 0", function ()
    for _, c in ipairs(cli.COMMANDS) do
      local forms = c.script and { { "help", c.name } } or { { c.name, "--help" }, { c.name, "-h" }, { "help", c.name } }
      local first
      for _, args in ipairs(forms) do
        local out, err, code = h.run(table.unpack(args))
        assert.are.equal(0, code, table.concat(args, " ") .. ": " .. err)
        assert.matches("^usage: " .. c.usage[1]:gsub("%p", "%%%0"), out)
        for _, opt in ipairs(c.options) do
          assert.matches((c.script and "-" or "--") .. opt[1], out, 1, true)
        end
        first = first or out
        assert.are.equal(first, out)
        for line in out:gmatch("[^\n]+") do assert.is_true(#line <= 100, "wider than 100 columns: " .. line) end
      end
    end
    -- --help wins wherever it stands, even after an incomplete command line
    local out, _, code = h.run("analyze", "--seq", "8k", "--help")
    assert.are.equal(0, code)
    assert.matches("^usage: lmp analyze MODEL", out)
  end)

  it("gives an overview with every command's usage, the REPL and script mode", function ()
    local out, _, code = h.run("--help")
    assert.are.equal(0, code)
    for _, c in ipairs(cli.COMMANDS) do
      for _, u in ipairs(c.usage) do assert.matches("  " .. u .. "\n", out, 1, true) end
      assert.matches(c.summary, out, 1, true)
    end
    assert.matches("REPL", out, 1, true)
    assert.matches("lmp -i", out, 1, true)
    assert.matches("lmp script.lua [args]", out, 1, true)
    assert.are.equal(out, (h.run("help")))
    local _, err, code2 = h.run("help", "frobnicate")
    assert.are.equal(2, code2)
    assert.are.equal("lmp: help: no command 'frobnicate' (see lmp --help)\n", err)
  end)

  it("takes --modules before or after the command", function ()
    local dir = h.fixtures .. "/modules"
    for _, args in ipairs({ { "--modules", dir, "module", "list" }, { "--modules=" .. dir, "module", "list" },
                            { "module", "list", "--modules", dir } }) do
      local out, err, code = h.run(table.unpack(args))
      assert.are.equal(0, code, err)
      assert.matches("spec_Scale%s+spec.Scale%s+user ", out)
    end
    local path = h.model('[{"name": "n", "class": "spec.Negative", "parameters": {"N": 1}}]')
    local _, err, code = h.run("--modules", dir, "analyze", path)
    os.remove(path)
    assert.are.equal(3, code) -- the fixture calculator was found, and misbehaves
    assert.matches("flops() returned -1", err, 1, true)
  end)
end)

describe("a model as a positional argument", function ()
  it("is a model file, a config.json, or a folder holding one", function ()
    local out, err, code = h.run("analyze", "models/gpt2.json", "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(GPT2_PARAMS, params_of(out))
    local config = h.CONFIGS .. "meta-llama--Llama-2-7b-hf.json"
    out, err, code = h.run("analyze", config, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(LLAMA_PARAMS, params_of(out))
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/config.json", "w"))
    f:write(lmp.core.read_file(config))
    f:close()
    out, err, code = h.run("analyze", dir, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(LLAMA_PARAMS, params_of(out))
    out, err, code = h.run("export", dir)
    assert.are.equal(0, code, err)
    assert.are.equal(LLAMA_PARAMS, lmp.analyze(lmp.load_model_string(out), { seq_len = 1 }).totals.params)
  end)

  it("is a model id otherwise, and a bundled one needs no network and no cache", function ()
    for _, args in ipairs({ { "analyze", LLAMA_ID }, { "analyze", "--model-id", LLAMA_ID },
                            { "analyze", "META-LLAMA/llama-2-7b-hf" } }) do
      table.move({ "--format", "json", "--depth", "0" }, 1, 4, #args + 1, args)
      local out, err, code = h.run_env(offline_env(), table.unpack(args))
      assert.are.equal(0, code, table.concat(args, " ") .. ": " .. err)
      assert.are.equal(LLAMA_PARAMS, params_of(out))
      assert.are.equal(LLAMA_ID, lmp.json_decode(out).model_id)
    end
    -- an old id without its org, as the Hub redirects it
    local out, err, code = h.run_env(offline_env(), "analyze", "gpt2", "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal("openai-community/gpt2", lmp.json_decode(out).model_id)
    -- export of a bundled id is the bundled file
    out, err, code = h.run_env(offline_env(), "export", LLAMA_ID)
    assert.are.equal(0, code, err)
    assert.are.equal(lmp.core.read_file("models/llama-2-7b-hf.json"), out)
  end)

  -- why a bundled model may stand in for its id: it is what the published config builds
  it("bundles exactly what each published config builds (BERT: the hand-written BertModel)", function ()
    local hub = require "lmp.hub"
    local checked = 0
    for _, m in ipairs(hub.bundled_models()) do
      local config = h.CONFIGS .. m.id:gsub("/", "--") .. ".json"
      if m.id ~= "google-bert/bert-base-uncased" and lmp.core.file_kind(config) == "file" then
        local at = { seq_len = 128, kv_len = 5, phase = "prefill" }
        local a = lmp.analyze(lmp.load_model(m.path), at, { depth = 0 })
        local b = lmp.analyze(lmp.load_config(config), at, { depth = 0 })
        assert.are.same(b.totals, a.totals, m.id)
        assert.are.same(b.footprint, a.footprint, m.id)
        checked = checked + 1
      end
    end
    assert.is_true(checked >= 14, "only " .. checked .. " bundled models have their config in spec/fixtures")
  end)

  it("says what is wrong with a model that is not there, or two models", function ()
    local cases = {
      { { "analyze", "nowhere/model.json" }, "lmp: analyze: nowhere/model.json: no such file or folder, and not a model id (ORG/NAME)" },
      { { "analyze", "models/gpt2.json", "--model-json", "models/gpt2.json" }, "lmp: analyze: name one model: MODEL" },
      { { "analyze", "models/gpt2.json", "models/opt-125m.json" }, "lmp: analyze: unexpected argument 'models/opt-125m.json'" },
      { { "analyze", "models/gpt2.json", "--revision", "main" }, "lmp: analyze: --revision goes with a model id" },
      { { "export", "models/gpt2.json" }, "lmp: export: models/gpt2.json is a model file already" },
      { { "export" }, "lmp: export: name one model" },
    }
    for _, c in ipairs(cases) do
      local _, err, code = h.run_env(offline_env(), table.unpack(c[1]))
      assert.are.equal(2, code, table.concat(c[1], " "))
      assert.are.equal(c[2], err:sub(1, #c[2]))
    end
  end)
end)

describe("lmp models", function ()
  it("lists every bundled model with its id, file and the parameters lmp counts", function ()
    local out, err, code = h.run("models")
    assert.are.equal(0, code, err)
    local files = 0
    for _, name in ipairs(lmp.core.listdir("models")) do
      if name:match("%.json$") then
        files = files + 1
        assert.matches(" models/" .. name:gsub("%p", "%%%0") .. " ", out)
      end
    end
    local _, rows = out:gsub("\n", "")
    assert.are.equal(files + 2, rows) -- a header and a closing count
    -- published counts
    assert.matches("meta%-llama/Llama%-2%-7b%-hf%s+models/llama%-2%-7b%-hf%.json%s+LlamaModel%+Linear%s+6,738,415,616\n", out)
    assert.matches("mistralai/Mixtral%-8x7B%-v0%.1%s+%S+%s+%S+%s+46,702,792,704\n", out)
    assert.matches(files .. " models in ", out, 1, true)
  end)
end)

describe("sizes and bit widths", function ()
  it("reads counts with k = 1024 and M = 1024 k", function ()
    local cases = { ["2048"] = 2048, ["8k"] = 8192, ["32K"] = 32768, ["1M"] = 1048576, ["3m"] = 3145728, ["0"] = 0 }
    for text, n in pairs(cases) do assert.are.equal(n, cli.parse_count(text), text) end
    for _, bad in ipairs({ "1.5k", "8kb", "k", "-1", "8 k", "9007199254740993k", "9223372036854775808" }) do
      assert.is_nil(cli.parse_count(bad), bad)
    end
    local _, inputs = cli.analyze_options({ "models/gpt2.json", "--seq", "8k", "--kv-len", "32k", "--batch", "1k" })
    assert.are.same({ 8192, 32768, 1024 }, { inputs.seq_len, inputs.kv_len, inputs.batch_size })
    local _, err, code = h.run("analyze", "models/gpt2.json", "--seq", "8q")
    assert.are.equal(2, code)
    assert.matches("^lmp: analyze: %-%-seq expects a non%-negative integer such as 512 or 8k %(k = 1024", err)
  end)

  it("reads bit widths by name", function ()
    local cases = { fp32 = 32, FP16 = 16, bf16 = 16, bfloat16 = 16, fp8 = 8, int8 = 8, int4 = 4, nf4 = 4, fp4 = 4,
                    ["12"] = 12 }
    for text, n in pairs(cases) do assert.are.equal(n, cli.parse_bits(text), text) end
    assert.is_nil(cli.parse_bits("fp7"))
    local _, inputs = cli.analyze_options({ "models/gpt2.json", "--w-bits", "int4", "--kv-bits", "fp8", "--a-bits", "bf16" })
    assert.are.same({ 4, 8, 16 }, { inputs.w_bits, inputs.kv_bits, inputs.a_bits })
    -- GPT-2's weights held at 4 bits: 124,439,808 parameters / 2 bytes
    local out, err, code = h.run("analyze", "models/gpt2.json", "--w-bits", "int4", "--seq", "1k", "--format", "json")
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    assert.are.equal(GPT2_PARAMS // 2, r.footprint.weights)
    assert.are.equal(1024, r.inputs.seq_len)
    _, err, code = h.run("analyze", "models/gpt2.json", "--kv-bits", "fp7")
    assert.are.equal(2, code)
    assert.matches("lmp: analyze: --kv-bits expects a number of bits from 1 to 64 or a name such as bf16, fp8, int4, " ..
      "nf4, got 'fp7'", err, 1, true)
    for _, bad in ipairs({ "0", "65" }) do -- fuzz_cli: 65 was taken here and refused only later
      _, err, code = h.run("analyze", "models/gpt2.json", "--w-bits", bad)
      assert.are.equal(2, code)
      assert.matches("--w-bits expects a number of bits from 1 to 64", err, 1, true)
    end
  end)
end)

describe("errors and output", function ()
  it("have one lmp: prefix", function ()
    for _, args in ipairs({ { "analyze" }, { "analyze", "models/gpt2.json", "--bogus" }, { "module", "show" },
                            { "module", "frob" }, { "db" }, { "generate" }, { "export", "--nope" }, { "models", "x" } }) do
      local _, err, code = h.run(table.unpack(args))
      assert.are.equal(2, code, table.concat(args, " "))
      assert.matches("^lmp: " .. args[1] .. "[ :]", err)
      assert.is_nil(err:find("lmp: lmp", 1, true), err)
      assert.are.equal(1, select(2, err:gsub("\n", "")), "not one line: " .. err)
    end
  end)

  -- `lmp ARGS` with stdout sent to `redirect` and stderr captured: stderr, exit code
  local function run_redirected(redirect, ...)
    local parts = { "'" .. h.exe .. "'" }
    for _, a in ipairs({ ... }) do parts[#parts + 1] = "'" .. a .. "'" end
    local p = io.popen(table.concat(parts, " ") .. " 2>&1 " .. redirect)
    local err = p:read("a")
    local _, _, code = p:close()
    return err, code
  end

  it("exits 2 when stdout cannot be written: a full disk, a closed stdout", function ()
    if lmp.core.file_kind("/dev/full") == nil then return pending("no /dev/full here") end
    for _, redirect in ipairs({ ">/dev/full", ">&-" }) do
      for _, args in ipairs({ { "analyze", "models/gpt2.json", "--seq", "1024" }, { "models" }, { "--help" },
                              { "-e", "print(1)" }, { "-e", "print(1) os.exit(0)" } }) do
        local err, code = run_redirected(redirect, table.unpack(args))
        assert.are.equal(2, code, redirect .. " " .. table.concat(args, " "))
        assert.matches("^lmp: cannot write to standard output[^\n]*\n$", err)
      end
    end
    local err, code = run_redirected(">/dev/null", "analyze", "models/gpt2.json", "--seq", "1024")
    assert.are.same({ "", 0 }, { err, code })
  end)
end)

describe("the table", function ()
  local function table_of(env, ...)
    local out, err, code = h.run_env(env, "analyze", ...)
    assert.are.equal(0, code, err)
    return out
  end

  it("prints the totals alone at --depth 0", function ()
    local out = table_of({}, "models/gpt2.json", "--seq", "1024", "--depth", "0")
    assert.is_nil(out:find("layer ", 1, true))
    assert.is_nil(out:find("(a row's figures", 1, true))
    assert.matches("^openai%-community/gpt2 | prefill | [^\n]+\n\ntotals %(exact%)\n", out)
    assert.matches("params%s+124,439,808", out)
  end)

  it("fits 100 columns when stdout is not a terminal, and COLUMNS when set", function ()
    local out = table_of({ COLUMNS = "" }, "models/llama-2-7b-hf.json")
    for line in out:gmatch("[^\n]+") do assert.is_true(#line <= 100, line) end
    assert.matches("(2 of 4 levels shown, to fit 100 columns; --depth 4 shows all)", out, 1, true)
    assert.is_nil(out:find("q_proj", 1, true))
    out = table_of({ COLUMNS = "250" }, "models/llama-2-7b-hf.json")
    assert.matches("\n      q_proj ", out, 1, true) -- every level: model.layers.self_attn.q_proj
    assert.is_nil(out:find("levels shown", 1, true))
    -- an explicit depth is kept; classes are cut (~) to 12 characters, then names to 16
    out = table_of({ COLUMNS = "93" }, "models/llama-2-7b-hf.json", "--depth", "4")
    assert.matches("\n      q_proj ", out, 1, true)
    assert.matches("\n  layers          LlamaDecode~ x32 ", out, 1, true)
    assert.matches("\n    post_attent~  LlamaRMSNorm ", out, 1, true)
    for line in out:gmatch("[^\n]+") do assert.is_true(#line <= 93, line) end
  end)

  it("fits the terminal's width on a terminal", function ()
    if not os.execute("command -v script >/dev/null && command -v stty >/dev/null") then
      return pending("needs script(1) and stty(1) for a pseudo-terminal")
    end
    local p = io.popen(("script -qec 'stty cols 120 rows 40; env -u COLUMNS %s analyze models/llama-2-7b-hf.json' /dev/null")
      :format(h.exe))
    local out = p:read("a"):gsub("\r", "")
    p:close()
    assert.matches("(3 of 4 levels shown, to fit 120 columns; --depth 4 shows all)", out, 1, true)
    for line in out:gmatch("[^\n]+") do assert.is_true(#line <= 120, line) end
  end)

  it("puts each 'of which backward' under the figure it is part of", function ()
    local out = table_of({}, "models/gpt2.json", "--phase", "train", "--seq", "1024", "--depth", "0")
    local lines = {}
    for line in out:gmatch("[^\n]*") do lines[#lines + 1] = line end
    local function after(label)
      for i, line in ipairs(lines) do
        if line:match("^  " .. label .. " ") then return lines[i + 1] end
      end
    end
    assert.matches("^    of which backward ", after("flops"))
    assert.matches("^    of which backward ", after("matmul_flops"))
    assert.matches("^  params ", after("matmul MACs"))
  end)
end)
