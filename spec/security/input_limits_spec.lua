-- Input that costs more than its size: each attack from the hostile-input run, with the
-- bound asserted in seconds (scaled by LMP_SLOW_FACTOR) and, where memory was the cost, bytes.
local lmp = require "lmp"
local h = require "spec.helpers"

-- seconds(fn) -> wall-clock seconds fn took, and what it returned
local seconds = h.cpu_seconds -- the bounds below are CPU time

-- peak-memory bounds are for a plain build: ASan's shadow memory and valgrind (LMP_SLOW_FACTOR
-- 30) inflate the resident size of the process measured
local MEM_FACTOR = (os.getenv("ASAN_OPTIONS") and 4 or 1) * (h.slow_factor >= 10 and 8 or 1)
local function kib_within(kib) return kib * MEM_FACTOR end

-- n distinct keys "k1".."kn" as the members of one JSON object, then `last`
local function many_keys(n, last)
  local t = {}
  for i = 1, n do t[i] = ('"k%d": %d'):format(i, i) end
  t[#t + 1] = last
  return "{" .. table.concat(t, ",") .. "}"
end

describe("JSON duplicate keys", function ()
  local N = 200000 -- 17 s for 80,000 before: the check compared each key with every earlier one

  it("are found in linear time, by the decoder every reader uses", function ()
    local s, ok, err = seconds(pcall, lmp.json_decode, many_keys(N, '"k1": 0'), "big.json")
    assert.is_false(ok)
    assert.matches('big.json:1:%d+: duplicate key "k1"', tostring(err))
    assert.is_true(s < h.within(1), s .. " s")
    local decoded
    s, ok, decoded = seconds(pcall, lmp.json_decode, many_keys(N, '"end": 0'), "big.json")
    assert.is_true(ok, tostring(decoded))
    assert.are.equal(N, decoded["k" .. N])
    assert.is_true(s < h.within(1), s .. " s")
  end)

  it("in a model file, a config.json and module_db.json, each a one-line error within a second", function ()
    local big = many_keys(N, '"k7": 0')
    local model = h.write('{"model_id": "m", "config": ' .. big .. ', "layers": [{"name": "a", "class": "torch.nn.modules.activation.ReLU", "parameters": {"numel": 1}}]}')
    local config = h.write(big)
    local db = h.write('{"torch_ReLU": ' .. big .. '}')
    for _, args in ipairs({ { "analyze", "--model-json", model }, { "analyze", "--config", config },
                            { "db", "check", "--db", db } }) do
      local s, _, err, code = seconds(h.run, table.unpack(args))
      assert.are_not.equal(0, code)
      assert.matches('duplicate key "k7"', err, 1, true)
      assert.is_nil(err:find("traceback", 1, true))
      assert.is_true(s < h.within(2), args[1] .. " " .. args[2] .. ": " .. s .. " s")
    end
  end)

  it("in the json block of an LLM reply (the reply body goes through the same decoder)", function ()
    local prompt = require "lmp.agent.prompt"
    local reply = "```json\n" .. many_keys(N, '"k9": 0') .. "\n```\n```lua\nreturn {}\n```\n"
    local s, entry, problem = seconds(prompt.parse, reply)
    assert.is_nil(entry)
    assert.matches('duplicate key "k9"', problem, 1, true)
    assert.is_true(s < h.within(1), s .. " s")
  end)
end)

describe("the fenced blocks of an LLM reply", function ()
  local prompt = require "lmp.agent.prompt"

  it("are cut out in linear time, whatever the reply holds", function ()
    local N = 2000000 -- 360 KB took minutes: .- and %s* backtracked over every blank
    for _, reply in ipairs({
      "```json\n" .. ("\n"):rep(N),                         -- never closed, all newlines
      "```json\n" .. (" \n"):rep(N // 2) .. "x",            -- blanks that almost close it
      ("```json "):rep(N // 8) .. "\n" .. ("```lua\n"):rep(N // 8), -- openers everywhere
      "```json\n{}\n" .. (" "):rep(N) .. "```\n```lua\n" .. ("\t"):rep(N) .. "\n```",
    }) do
      local s = seconds(prompt.parse, reply)
      assert.is_true(s < h.within(1), #reply .. " bytes: " .. s .. " s")
    end
  end)

  it("are the lines between the opening and the closing fence", function ()
    local entry, lua_text = prompt.parse('Here:\n```json  \n{"a": 1}\n  ```\n\ntext\n```lua\nreturn {\n}\n```\n')
    assert.are.same({ a = 1 }, entry)
    assert.are.equal("return {\n}\n", lua_text)
    assert.are.same({ nil, "no ```json block with the module_db.json entry" }, { prompt.parse("```lua\nx\n```") })
    assert.are.same({ nil, "no ```lua block with the calculator" }, { prompt.parse('```json\n{}\n```\n```lua\nx\n') })
  end)
end)

describe("weights_tied_to", function ()
  it("is resolved in linear time: 100,000 ties to 100,000 distinct layers", function ()
    local N = 100000 -- 20,000 ties took 3.7 s: a search from the root per tie
    local layers = {}
    local linear = '"class": "torch.nn.modules.linear.Linear", "parameters": {"N": 1, "in_features": 8, "out_features": 8, "bias": false}'
    for i = 1, N do
      layers[#layers + 1] = ('{"name": "a%d", %s}'):format(i, linear)
      layers[#layers + 1] = ('{"name": "b", "class": "x.Stack", "sub_layers": [{"name": "c%d", %s, "weights_tied_to": "a%d"}]}')
        :format(i, linear, i)
    end
    local path = h.model("[" .. table.concat(layers, ",") .. "]")
    local s, out, err, code = seconds(h.run, "analyze", "--model-json", path, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(N * 8 * 8, lmp.json_decode(out).totals.params) -- each a_i once (8 x 8, no bias), its tie none
    assert.is_true(s < h.within(2), s .. " s")
  end)

  it("names the first layer in tree order with that dotted path, and refuses what names none", function ()
    local m = lmp.load_model_string([[{"layers": [
      {"name": "x", "class": "x.Stack", "sub_layers": [
        {"name": "y", "class": "torch.nn.modules.linear.Linear", "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}}]},
      {"name": "t", "class": "torch.nn.modules.linear.Linear", "weights_tied_to": "x.y",
       "parameters": {"N": 1, "in_features": 2, "out_features": 3, "bias": false}}]}]], "ties.json")
    assert.are.equal(6, lmp.analyze(m, { seq_len = 1 }).totals.params)
    local err = h.error_of(lmp.load_model_string, [[{"layers": [
      {"name": "t", "class": "torch.nn.modules.linear.Linear", "weights_tied_to": "x.z", "parameters": {"N": 1}}]}]], "ties.json")
    assert.matches('weights_tied_to: "x.z" names no layer', tostring(err), 1, true)
  end)
end)

describe("the file size limit", function ()
  local LIMIT = 4000000

  -- peak resident KiB of a fresh lmp that runs `code`
  local function peak_kib(env, code)
    local out, err = h.run_env(env, "-e", code .. '; io.write(io.open("/proc/self/status"):read("a"):match("VmHWM:%s*(%d+)"))')
    return assert(tonumber(out), err)
  end

  it("holds while reading: /dev/zero, a pipe and a FIFO stop at it, for every kind of file lmp reads", function ()
    local env = { LMP_MAX_MODEL_BYTES = tostring(LIMIT) }
    local want = "/dev/zero: more than 4000000 bytes, the limit for a file lmp reads (LMP_MAX_MODEL_BYTES raises it)"
    for _, args in ipairs({ { "analyze", "--model-json", "/dev/zero" }, { "analyze", "--config", "/dev/zero" },
                            { "db", "check", "--db", "/dev/zero" }, { "module", "check", "/dev/zero" },
                            { "export", "--config", "/dev/zero" } }) do
      local s, out, err, code = seconds(h.run_env, env, table.unpack(args))
      if args[1] == "module" then -- a check's verdict, on stdout
        assert.are.equal(4, code, err)
        assert.matches("FAIL  /dev/zero: " .. want, out, 1, true)
      else
        assert.are.equal(2, code, err)
        assert.are.equal("lmp: " .. want .. "\n", err)
      end
      assert.is_true(s < h.within(1), s .. " s")
    end
    -- a pipe: stdin fed by an endless writer
    local _, err, code = h.run_prefixed("cat /dev/zero | env LMP_MAX_MODEL_BYTES=" .. LIMIT, "analyze", "--model-json", "/dev/stdin")
    assert.are.equal(2, code, err)
    assert.matches("/dev/stdin: more than 4000000 bytes", err, 1, true)
    -- a FIFO
    local fifo = h.tmpdir() .. "/fifo"
    assert(os.execute("mkfifo " .. fifo))
    os.execute("(cat /dev/zero > " .. fifo .. " 2>/dev/null &)")
    _, err, code = h.run_env(env, "analyze", "--config", fifo)
    assert.are.equal(2, code, err)
    assert.matches(fifo .. ": more than 4000000 bytes", err, 1, true)
    -- and the memory it took stays near the limit, not the gigabytes an endless file gives
    assert.is_true(peak_kib(env, 'pcall(lmp.load_model, "/dev/zero")') < kib_within(64 * 1024))
    assert.is_true(peak_kib(env, 'pcall(lmp.core.read_file, "/dev/zero")') < kib_within(64 * 1024))
  end)

  it("refuses a regular file over it before reading it", function ()
    local path = h.write(("x"):rep(LIMIT + 1))
    local _, err, code = h.run_env({ LMP_MAX_MODEL_BYTES = tostring(LIMIT) }, "db", "check", "--db", path)
    assert.are.equal(2, code)
    assert.matches(path .. ": more than 4000000 bytes", err, 1, true)
  end)

  it("bounds LMP_PROMPT and a refs/main of the Hugging Face cache too", function ()
    local _, err, code = h.run_env({ LMP_MAX_MODEL_BYTES = tostring(LIMIT), LMP_PROMPT = "/dev/zero",
      ANTHROPIC_API_KEY = "x", ANTHROPIC_BASE_URL = "http://127.0.0.1:9", HOME = h.tmpdir() },
      "generate", "--full-class-name", "torch.nn.modules.activation.Mish", "--source", h.fixtures .. "/agent/src/torch/nn/modules/activation.py")
    assert.are.equal(2, code, err)
    assert.matches("/dev/zero: more than 4000000 bytes", err, 1, true)
    local home = h.tmpdir()
    local repo = home .. "/hub/models--org--m"
    assert(lmp.core.mkdir_p(repo .. "/refs"))
    assert(os.execute("ln -s /dev/zero " .. repo .. "/refs/main"))
    local s
    s, _, err, code = seconds(h.run_env, { HF_HOME = home, HF_HUB_CACHE = "", LMP_CACHE = h.tmpdir(), HF_HUB_OFFLINE = "1" },
      "analyze", "--model-id", "org/m")
    assert.are.equal(2, code, err)
    assert.matches("HF_HUB_OFFLINE=1 forbids downloading it", err, 1, true)
    assert.is_true(s < h.within(1), s .. " s")
  end)
end)

describe("--phase generate with a calculator that is not quadratic in the cache length", function ()
  -- spec.Cubic: kv_len^3 FLOPs, so no three steps fix the sum and every step is analysed
  local dir = h.tmpdir()
  local f = assert(io.open(dir .. "/spec_cubic.lua", "w"))
  f:write([[return {
    full_class_name = "spec.Cubic",
    required_parameters = function () return { kv_len = "int" } end,
    flops = function (p) return p.kv_len * p.kv_len * p.kv_len end,
    matmul_flops = function (p) return 0 end,
    params = function (p) return 0 end,
    memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
    backward = function (p) return { flops = 0, matmul_flops = 0 } end,
  }]])
  f:close()
  local model = h.model('[{"name": "c", "class": "spec.Cubic", "parameters": {}}]')
  local function generate(new_tokens, env)
    return h.run_env(env or {}, "analyze", "--model-json", model, "--modules", dir, "--phase", "generate", "--seq", "4",
      "--new-tokens", tostring(new_tokens), "--format", "json")
  end

  it("sums the steps one by one below the cap", function ()
    local out, err, code = generate(50)
    assert.are.equal(0, code, err)
    -- prefill at kv_len 0: 0; decode steps over 4..52 cached tokens: sum k^3 = (52*53/2)^2 - (3*4/2)^2
    assert.are.equal(1378 * 1378 - 36, lmp.json_decode(out).totals.flops)
  end)

  it("stops at 10,000 analyses with a one-line error saying why, within seconds and megabytes", function ()
    local s, _, err, code = seconds(generate, 100000) -- 11.7 s and 742 MB before
    assert.are.equal(2, code, err)
    assert.matches("^lmp: generate: the decode steps' figures are not polynomials of degree <= 2 in the cache length " ..
      "%(a calculator's%), so the 99999 steps would be analysed one by one; 10000 analyses is the limit " ..
      "%(LMP_MAX_STEP_ANALYSES raises it, fewer %-%-new%-tokens need fewer%)\n$", err)
    assert.is_true(s < h.within(2), s .. " s")
    local out = h.run("-e", ([[
      local m = lmp.load_model(%q)
      lmp.registry.set_paths({ %q, table.unpack(lmp.registry.paths) })
      pcall(lmp.generate, m, { prompt_len = 4, new_tokens = 100000 })
      io.write(io.open("/proc/self/status"):read("a"):match("VmHWM:%%s*(%%d+)"))]]):format(model, dir))
    assert.is_true(assert(tonumber(out), out) < kib_within(64 * 1024), out .. " KiB")
    _, err, code = generate(20, { LMP_MAX_STEP_ANALYSES = "10" })
    assert.are.equal(2, code)
    assert.matches("so the 19 steps would be analysed one by one; 10 analyses is the limit", err, 1, true)
  end)
end)

describe("LLM calls per run", function ()
  local json = require "lmp.json"
  local FIX = h.fixtures .. "/agent"
  local function reply(text)
    return { method = "POST", path = "/v1/messages", body = json.encode({ type = "message",
      content = { { type = "text", text = text } }, usage = { input_tokens = 1, output_tokens = 1 } }) }
  end
  -- three unknown classes; the first reply is a good calculator for the first, every later
  -- one is refused (no blocks), so the second class asks again round after round
  local layers = {}
  for i = 1, 3 do layers[i] = ('{"name": "u%d", "class": "spec.Unknown%d", "parameters": {"numel": 64}}'):format(i, i) end
  local function renamed(file) return (lmp.core.read_file(FIX .. "/" .. file):gsub("torch%.nn%.modules%.activation%.Mish", "spec.Unknown1")) end
  local rules = { reply("```json\n" .. renamed("mish.json") .. "\n```\n```lua\n" .. renamed("mish.lua") .. "```\n"),
                  reply("no blocks") }
  local model = h.model("[" .. table.concat(layers, ",") .. "]")

  local function run(extra, ...)
    local server = h.fake_server(rules)
    local dir = h.tmpdir()
    local env = { HOME = dir, XDG_DATA_HOME = dir .. "/data", ANTHROPIC_API_KEY = "k", ANTHROPIC_BASE_URL = server.url,
                  OPENAI_BASE_URL = "", LMP_LLM_PROVIDER = "", LMP_LLM_MODEL = "", LMP_GENERATE = "", LMP_LLM_MAX_CALLS = "" }
    for k, v in pairs(extra) do env[k] = v end
    local s, _, err, code = seconds(h.run_env, env, "analyze", "--model-json", model, "--generate", "--depth", "0",
      "--max-rounds", "50", ...)
    server.stop()
    return s, select(2, server.requests():gsub("POST /v1/messages", "")), err, code
  end

  it("stop at 10 by default, a success counted too; the classes left are listed with their lmp generate commands", function ()
    local s, calls, err, code = run({})
    assert.are.equal(10, calls) -- 1 for spec.Unknown1, 9 refused for spec.Unknown2 (it would ask 50 times)
    assert.are.equal(1, code, err)
    assert.matches("lmp: generation failed: stopped at the limit of 10 LLM calls per run (--max-llm-calls N or LMP_LLM_MAX_CALLS raises it)\n", err, 1, true)
    assert.matches("lmp generate --full-class-name spec.Unknown2 --max-rounds 50\n", err, 1, true)
    assert.matches("lmp generate --full-class-name spec.Unknown3 --max-rounds 50\n", err, 1, true)
    assert.is_nil(err:find("spec.Unknown1\n", 1, true)) -- written, so no longer unknown
    assert.is_true(s < h.within(2), s .. " s")
  end)

  it("--max-llm-calls and LMP_LLM_MAX_CALLS move the limit", function ()
    local _, calls, err = run({}, "--max-llm-calls", "2")
    assert.are.equal(2, calls)
    assert.matches("stopped at the limit of 2 LLM calls per run", err, 1, true)
    _, calls, err = run({ LMP_LLM_MAX_CALLS = "14" })
    assert.are.equal(14, calls)
    assert.matches("stopped at the limit of 14 LLM calls per run", err, 1, true)
  end)
end)

describe("the rows of a report", function ()
  it("are at most 1,000,000 by default, counted before any is made: an error naming --depth and LMP_MAX_ROWS", function ()
    -- 1,000,001 layers of an unknown class, 26 bytes each: the tree of a result and its
    -- report would take some 9 GB (4.6 GB for 10^6 rows of JSON)
    local path = os.tmpname() .. ".json"
    local f = assert(io.open(path, "w"))
    f:write('{"layers": [{"name": "s", "class": "x.S", "sub_layers": [')
    f:write(('{"name": "a", "class": "x.A"},'):rep(1000000 - 1), '{"name": "a", "class": "x.A"}]}]}')
    f:close()
    local code_ = ('local ok, e = pcall(lmp.analyze, lmp.load_model(%q), { seq_len = 1 }) print(tostring(e)) ' ..
      'local r = lmp.analyze(lmp.load_model(%q), { seq_len = 1 }, { depth = 1 }) print(#r.tree, r.tree[1].children) ' ..
      'io.write(io.open("/proc/self/status"):read("a"):match("VmHWM:%%s*(%%d+)"))'):format(path, path)
    local s, out, err = seconds(h.run, "-e", code_)
    os.remove(path)
    local msg, rows, hwm = out:match("^(.-)\n(.-)\n(%d+)$")
    assert.are.equal("more than 1000000 layers to show (the limit; --depth N shows fewer, LMP_MAX_ROWS raises it)", msg, err)
    assert.are.equal("1\tnil", rows) -- --depth 1 shows the root alone
    assert.is_true(tonumber(hwm) < kib_within(1024 * 1024), hwm .. " KiB") -- the model alone, no tree
    assert.is_true(s < h.within(4), s .. " s")
  end)

  it("LMP_MAX_ROWS moves the limit; --depth keeps a report under it", function ()
    local path = h.model('[{"name": "s", "class": "x.S", "sub_layers": [' .. ('{"name": "a", "class": "x.A"},'):rep(9) ..
      '{"name": "a", "class": "x.A"}]}]')
    local _, err, code = h.run_env({ LMP_MAX_ROWS = "10" }, "analyze", "--model-json", path)
    assert.are.equal(2, code)
    assert.are.equal("lmp: more than 10 layers to show (the limit; --depth N shows fewer, LMP_MAX_ROWS raises it)\n", err)
    _, err, code = h.run_env({ LMP_MAX_ROWS = "11" }, "analyze", "--model-json", path)
    assert.are.equal(1, code, err) -- 11 rows; exit 1: x.A has no calculator
    _, err, code = h.run_env({ LMP_MAX_ROWS = "10" }, "analyze", "--model-json", path, "--depth", "1")
    assert.are.equal(1, code, err)
  end)
end)

describe("JSON values per document", function ()
  it("are at most 100,000,000 (LMP_MAX_JSON_VALUES), each costing well under 128 bytes of peak memory", function ()
    local path = h.write('{"layers": [' .. ("0,"):rep(2000000) .. '0]}') -- 2,000,003 values, 4 MB
    local _, err, code = h.run_env({ LMP_MAX_JSON_VALUES = "1000000" }, "analyze", "--model-json", path)
    assert.are.equal(2, code)
    assert.matches("^lmp: " .. path:gsub("%p", "%%%0") .. ":1:%d+: more than 1000000 JSON values %(the limit; LMP_MAX_JSON_VALUES raises it%)\n$", err)
    _, err, code = h.run_env({ LMP_MAX_JSON_VALUES = "1000000" }, "analyze", "--config", path)
    assert.are.equal(2, code)
    assert.matches("more than 1000000 JSON values", err, 1, true)
    -- under the default the whole tree is built, then refused as a model: 2,000,003 values
    -- in under 256 MB, so the default's 10^8 stay under ~13 GB
    local out = h.run("-e", ('pcall(lmp.load_model, %q) io.write(io.open("/proc/self/status"):read("a"):match("VmHWM:%%s*(%%d+)"))'):format(path))
    assert.is_true(assert(tonumber(out), out) < kib_within(256 * 1024), out .. " KiB")
  end)
end)
