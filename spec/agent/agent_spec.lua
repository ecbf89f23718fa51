-- The agent end to end, against fake Anthropic and OpenAI-compatible servers on 127.0.0.1
-- speaking the real wire formats: unknown modules become validated calculators; broken or
-- hostile replies are refused with nothing written; retries, timeouts and refusals.
local lmp = require "lmp"
local json = require "lmp.json"
local h = require "spec.helpers"

local FIX = h.fixtures .. "/agent"
local MISH = "torch.nn.modules.activation.Mish"
local GOOD_CALC = lmp.core.read_file(FIX .. "/mish.lua")
local GOOD_ENTRY = lmp.core.read_file(FIX .. "/mish.json")

local function reply_text(entry, calc)
  return "Here is the analysis.\n\n```json\n" .. entry .. "\n```\n\n```lua\n" .. calc .. "```\n"
end

-- an Anthropic Messages API response body; usage { input_tokens, output_tokens }
local function anthropic(text, usage)
  usage = usage or { 10, 20 }
  return json.encode({ id = "msg_1", type = "message", role = "assistant", model = "claude-test",
    content = { { type = "text", text = text } }, stop_reason = "end_turn",
    usage = { input_tokens = usage[1], output_tokens = usage[2] } })
end

-- an OpenAI chat-completions response body; usage { prompt_tokens, completion_tokens }
local function openai(text, usage)
  usage = usage or { 1200, 800 }
  return json.encode({ id = "chatcmpl-1", object = "chat.completion", model = "local-model",
    choices = { { index = 0, message = { role = "assistant", content = text }, finish_reason = "stop" } },
    usage = { prompt_tokens = usage[1], completion_tokens = usage[2], total_tokens = usage[1] + usage[2] } })
end

local function bad_calc(body)
  return GOOD_CALC:gsub("flops = function %(p%) return kernels.elementwise%(p.numel, 5%) end",
    "flops = function (p) " .. body .. " end", 1)
end

-- a model with one Linear and one Mish layer: 2*4*8*16 = 1,024 matmul FLOPs; Mish over
-- 4*16 = 64 elements at 5 FLOPs = 320
local MODEL = [=[[
  {"name": "fc", "class": "torch.nn.modules.linear.Linear",
   "parameters": {"N": 4, "in_features": 8, "out_features": 16, "bias": false}},
  {"name": "act", "class": "torch.nn.modules.activation.Mish", "parameters": {"numel": 64}}
]]=]

-- a fresh user data folder: HOME and XDG_DATA_HOME point into it, so what lmp stores goes
-- to <dir>/data/lmp/modules and <dir>/data/lmp/module_db.json
local function workspace()
  local dir = h.tmpdir()
  local user = dir .. "/data/lmp"
  return { dir = dir, user = user, db = user .. "/module_db.json", calc_file = user .. "/modules/torch_mish.lua",
            env = { HOME = dir, XDG_DATA_HOME = dir .. "/data" } }
end

local function anthropic_env(server, ws, extra)
  local env = { ANTHROPIC_API_KEY = "sk-ant-SECRET", ANTHROPIC_BASE_URL = server.url, OPENAI_BASE_URL = "",
                OPENAI_API_KEY = "", LMP_LLM_PROVIDER = "", LMP_LLM_MODEL = "", LMP_LLM_BACKOFF_MS = "10",
                LMP_GENERATE = "", LMP_LLM_PRICE_IN = "", LMP_LLM_PRICE_OUT = "" }
  for k, v in pairs(ws.env) do env[k] = v end
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

local function nothing_written(ws)
  assert.is_nil(lmp.core.file_kind(ws.calc_file))
  assert.is_nil(lmp.core.file_kind(ws.db))
end

-- how many requests reached the LLM server
local function requests(server) return select(2, server.requests():gsub("POST /v1/", "")) end

local GOOD = anthropic(reply_text(GOOD_ENTRY, GOOD_CALC))

describe("agent", function ()
  it("without --generate, analyze reports the unknown module and asks no LLM, even with a key set", function ()
    local model = h.model(MODEL)
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = GOOD } })
    local ws = workspace()
    local out, err, code = h.run_env(anthropic_env(server, ws), "analyze", "--model-json", model)
    local _ -- the results a check below does not read
    assert.are.equal(1, code, err)
    -- the partial report, the unknown row marked, the Linear row priced (1,024 FLOPs)
    assert.matches("\nact%s+Mish%s.-<%- UNKNOWN\n", out)
    assert.matches("fc%s+Linear%s+1.02 K", out)
    assert.matches("no calculator for torch.nn.modules.activation.Mish (marked UNKNOWN in the report)", err, 1, true)
    assert.matches("\nlmp:   lmp generate --full-class-name torch.nn.modules.activation.Mish\n", err, 1, true)
    assert.matches("rerun with --generate (or LMP_GENERATE=1)", err, 1, true)
    -- the command carries analyze's options that matter to it
    _, err = h.run_env(anthropic_env(server, ws), "analyze", "--model-json", model, "--source-root", "/a b",
      "--modules", ws.dir, "--llm-model", "m1")
    assert.matches("lmp generate --full-class-name torch.nn.modules.activation.Mish --source-root '/a b' " ..
      "--llm-model m1 --modules " .. ws.dir .. "\n", err, 1, true)
    -- JSON output stays JSON; --offline wins over LMP_GENERATE=1
    out, _, code = h.run_env(anthropic_env(server, ws, { LMP_GENERATE = "1" }), "analyze", "--model-json", model,
      "--offline", "--format", "json")
    assert.are.equal(1, code)
    assert.is_false(lmp.json_decode(out).complete)
    server.stop()
    assert.are.equal("", server.requests())
    nothing_written(ws)
    -- a switch set by mistake is an error, not a guess
    _, err, code = h.run_env({ LMP_GENERATE = "yes" }, "analyze", "--model-json", model)
    assert.are.equal(2, code)
    assert.matches("LMP_GENERATE must be 1 or 0, got 'yes'", err, 1, true)
    _, err, code = h.run("analyze", "--model-json", model, "--offline", "--generate")
    assert.are.equal(2, code)
    assert.matches("--offline and --generate exclude each other", err, 1, true)
  end)

  it("with --generate, fills the unknown module (Anthropic), stores it in the user folder, and uses it", function ()
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = GOOD } })
    local ws = workspace()
    local model = h.model(MODEL)
    local out, err, code = h.run_env(anthropic_env(server, ws), "analyze", "--model-json", model, "--generate",
      "--source-root", FIX .. "/src", "--format", "json")
    server.stop()
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    assert.are.equal(1024, r.totals.matmul_flops)
    assert.are.equal(1024 + 320, r.totals.flops)
    assert.is_true(r.complete)
    -- stored: the calculator marked as generated, the entry with its generation record
    local calc = lmp.core.read_file(ws.calc_file)
    assert.matches("^%-%- Generated by lmp [%d.]+ with claude%-sonnet%-4%-5 %(anthropic%) on %d+%-%d+%-%d+", calc)
    local entries = lmp.json_decode(lmp.core.read_file(ws.db))
    assert.are.equal(MISH, entries.torch_Mish.full_class_name)
    assert.are.equal("anthropic", entries.torch_Mish.generated.provider)
    assert.is_nil(entries.torch_Linear) -- the overlay holds only what was generated
    -- the request: the Messages API headers, the module's real source, the layer's parameters
    local req = server.requests()
    assert.matches("POST /v1/messages HTTP/1.1", req, 1, true)
    assert.matches("x-api-key: sk-ant-SECRET", req, 1, true)
    assert.matches("anthropic-version: 2023-06-01", req, 1, true)
    assert.matches("class Mish(Module):", req, 1, true)
    assert.matches("numel = 64", req, 1, true)
    assert.is_nil(err:find("SECRET", 1, true))
    -- tokens and cost: 10 in at $3/M + 20 out at $15/M = $0.000030 + $0.000300
    assert.matches("lmp: LLM call 1: claude-sonnet-4-5, 10 tokens in, 20 tokens out, $0.000330\n", err, 1, true)
    assert.matches("lmp: LLM total: 1 call, 10 tokens in, 20 tokens out, $0.000330\n", err, 1, true)
    -- the database checks out with the new entry, and says where each entry came from
    local check_out, _, check_code = h.run_env(ws.env, "db", "check")
    assert.are.equal(0, check_code, check_out)
    assert.matches("ok    torch_Mish%s+user: 6 samples\n", check_out)
    assert.matches("ok    torch_Linear%s+bundled: ", check_out)
    assert.matches("(bundled " .. lmp.db_path .. ", user " .. ws.db .. ")", check_out, 1, true)
    -- and lmp module show names the file the entry came from
    local show = h.run_env(ws.env, "module", "show", MISH)
    assert.matches("calculator  " .. ws.calc_file .. "\n", show, 1, true)
    assert.matches("db entry from " .. ws.db .. "\n", show, 1, true)
    assert.matches("db entry from " .. lmp.db_path .. "\n", h.run_env(ws.env, "module", "show", "torch_Linear"), 1, true)
  end)

  it("LMP_GENERATE=1 asks as --generate does", function ()
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = GOOD } })
    local ws = workspace()
    local _, err, code = h.run_env(anthropic_env(server, ws, { LMP_GENERATE = "1" }), "analyze",
      "--model-json", h.model(MODEL), "--source-root", FIX .. "/src")
    server.stop()
    assert.are.equal(0, code, err)
    assert.are.equal(1, requests(server))
    assert.are.equal("file", lmp.core.file_kind(ws.calc_file))
  end)

  it("with --generate, fills an unknown module under --phase generate too", function ()
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = GOOD } })
    local ws = workspace()
    local model = h.model('[{"name": "act", "class": "torch.nn.modules.activation.Mish", ' ..
      '"parameters": {"numel": "${batch_size} * ${seq_len} * 16"}}]')
    local out, err, code = h.run_env(anthropic_env(server, ws), "analyze", "--model-json", model, "--generate",
      "--phase", "generate", "--seq", "4", "--new-tokens", "3", "--source-root", FIX .. "/src", "--format", "json")
    server.stop()
    assert.are.equal(0, code, err)
    -- a prefill of 4 tokens (64 elements), then 2 decode steps of 1 token (16 each), 5 FLOPs an element
    assert.are.equal(5 * (64 + 16 + 16), lmp.json_decode(out).totals.flops)
  end)

  it("writes only in the user folder: not in the data it was given, not in the checkout, no lock file", function ()
    -- a read-only copy of the bundled data (LMP_HOME), and the checkout's state before
    local ws = workspace()
    local home = ws.dir .. "/share"
    assert(os.execute(("mkdir -p %s && cp -r modules_lua module_db.json docs %s/ && chmod -R a-w %s")
      :format(home, home, home)))
    local function files(dir)
      local p = io.popen(("cd %s && find . -type f -exec md5sum {} + | sort"):format(dir))
      local list = p:read("a")
      p:close()
      return list
    end
    local function git_status() local p = io.popen("git status --porcelain 2>&1"); local t = p:read("a"); p:close(); return t end
    local before_home, before_git = files(home), git_status()
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = GOOD } })
    local _, err, code = h.run_env(anthropic_env(server, ws, { LMP_HOME = home }), "analyze", "--model-json",
      h.model(MODEL), "--generate", "--source-root", FIX .. "/src")
    server.stop()
    assert.are.equal(0, code, err)
    assert.are.equal(before_home, files(home))
    assert.are.equal(before_git, git_status())
    -- everything new is the calculator and the db overlay, side by side
    local p = io.popen(("cd %s && find data -type f | sort"):format(ws.dir))
    assert.are.equal("data/lmp/module_db.json\ndata/lmp/modules/torch_mish.lua\n", p:read("a"))
    p:close()
    -- with no HOME and no XDG_DATA_HOME there is no user folder: refused, not written to the current folder
    local env = anthropic_env(server, ws, { LMP_HOME = home, HOME = "", XDG_DATA_HOME = "" })
    _, err, code = h.run_env(env, "generate", "--full-class-name", "spec.Other")
    assert.are.equal(2, code)
    assert.matches("no user data folder to store the calculator in: set HOME or XDG_DATA_HOME", err, 1, true)
    os.execute("chmod -R u+w " .. home)
  end)

  it("with --generate, a failed generation still prints the partial report, the failure on stderr, exit 1", function ()
    local model = h.model(MODEL)
    local cases = {
      { "HTTP 401", { { method = "POST", path = "/v1/messages", status = 401,
          body = '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}' } },
        "generation failed: anthropic at http://127.0.0.1:%d+ refused the API key %(HTTP 401: invalid x%-api%-key%)" },
      { "invalid replies", { { method = "POST", path = "/v1/messages", body = anthropic("no code here") } },
        "generation failed: torch.nn.modules.activation.Mish: no valid calculator after 2 rounds; nothing was written" },
      { "a sandbox refusal", { { method = "POST", path = "/v1/messages",
          body = anthropic(reply_text(GOOD_ENTRY, bad_calc("os.execute('true') return 0"))) } }, "global 'os'" },
    }
    for _, case in ipairs(cases) do
      local server = h.fake_server(case[2])
      local ws = workspace()
      local out, err, code = h.run_env(anthropic_env(server, ws), "analyze", "--model-json", model, "--generate",
        "--max-rounds", "2", "--source-root", FIX .. "/src")
      server.stop()
      assert.are.equal(1, code, case[1] .. ": " .. err)
      assert.matches("\nact%s+Mish%s.-<%- UNKNOWN\n", out)
      assert.matches("totals (exact)", out, 1, true)
      assert.matches(case[3], err)
      assert.matches("lmp generate --full-class-name torch.nn.modules.activation.Mish", err, 1, true)
      nothing_written(ws)
    end
  end)

  it("works with an OpenAI-compatible server through lmp generate, and prices its usage", function ()
    local server = h.fake_server({ { method = "POST", path = "/v1/chat/completions", body = openai(reply_text(GOOD_ENTRY, GOOD_CALC)) } })
    local ws = workspace()
    local env = anthropic_env(server, ws, { ANTHROPIC_API_KEY = "", OPENAI_BASE_URL = server.url .. "/v1",
      OPENAI_API_KEY = "local" })
    local out, err, code = h.run_env(env, "generate", "--full-class-name", MISH, "--source",
      FIX .. "/src/torch/nn/modules/activation.py")
    server.stop()
    assert.are.equal(0, code, err)
    assert.matches(ws.calc_file .. " written after 1 round", out, 1, true)
    local req = server.requests()
    assert.matches("Authorization: Bearer local", req, 1, true)
    assert.matches('"role":"system"', req, 1, true)
    -- gpt-4o-mini: 1,200 in at $0.15/M = $0.000180, 800 out at $0.60/M = $0.000480
    assert.matches("lmp: LLM call 1: gpt-4o-mini, 1200 tokens in, 800 tokens out, $0.000660\n", err, 1, true)
    assert.matches("lmp: LLM total: 1 call, 1200 tokens in, 800 tokens out, $0.000660\n", err, 1, true)
    -- the new calculator answers like any other: 5 FLOPs an element
    out = h.run_env(ws.env, "module", "flops", MISH, "numel=1000")
    assert.are.equal("flops 5000\nmatmul_flops 0\n", out)
  end)

  it("says 'cost unknown' for a model with no price, and takes the price from LMP_LLM_PRICE_IN/OUT", function ()
    local body = openai(reply_text(GOOD_ENTRY, GOOD_CALC))
    local function run(extra)
      local server = h.fake_server({ { method = "POST", path = "/v1/chat/completions", body = body } })
      local ws = workspace()
      local env = anthropic_env(server, ws, { ANTHROPIC_API_KEY = "", OPENAI_BASE_URL = server.url .. "/v1",
        LMP_LLM_MODEL = "local-model" })
      for k, v in pairs(extra) do env[k] = v end
      local _, err, code = h.run_env(env, "generate", "--full-class-name", MISH, "--source-root", FIX .. "/src")
      server.stop()
      return err, code
    end
    local err, code = run({})
    assert.are.equal(0, code, err)
    assert.matches("LLM call 1: local-model, 1200 tokens in, 800 tokens out, cost unknown (no price for local-model: " ..
      "set LMP_LLM_PRICE_IN and LMP_LLM_PRICE_OUT)\n", err, 1, true)
    assert.matches("LLM total: 1 call, 1200 tokens in, 800 tokens out, cost unknown\n", err, 1, true)
    -- $2/M in, $10/M out: 1,200 * 2 + 800 * 10 = 10,400 millionths of a dollar
    err, code = run({ LMP_LLM_PRICE_IN = "2", LMP_LLM_PRICE_OUT = "10" })
    assert.are.equal(0, code, err)
    assert.matches("LLM call 1: local-model, 1200 tokens in, 800 tokens out, $0.010400\n", err, 1, true)
    err, code = run({ LMP_LLM_PRICE_IN = "two" })
    assert.are.equal(2, code)
    assert.matches("LMP_LLM_PRICE_IN must be a price in USD per million tokens, got 'two'", err, 1, true)
  end)

  it("sends the problems back and accepts a corrected reply; counts both calls", function ()
    local server = h.fake_server({
      { method = "POST", path = "/v1/messages", body = anthropic(reply_text('{"full_class_name": "torch.nn.modules.activation.Mish",', GOOD_CALC)) },
      { method = "POST", path = "/v1/messages", body = anthropic(reply_text(GOOD_ENTRY, GOOD_CALC), { 100, 50 }) },
    })
    local ws = workspace()
    local out, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH,
      "--source-root", FIX .. "/src")
    server.stop()
    assert.are.equal(0, code, err)
    assert.matches("written after 2 rounds", out, 1, true)
    assert.matches("round 1 refused: the json block does not parse", err, 1, true)
    assert.are.equal(2, requests(server))
    assert.matches("Your previous reply was refused", server.requests(), 1, true)
    -- call 2: 100 * 3 + 50 * 15 = 1,050 millionths; the total 110 in, 70 out: 330 + 1,050
    assert.matches("LLM call 1: claude-sonnet-4-5, 10 tokens in, 20 tokens out, $0.000330\n", err, 1, true)
    assert.matches("LLM call 2: claude-sonnet-4-5, 100 tokens in, 50 tokens out, $0.001050\n", err, 1, true)
    assert.matches("LLM total: 2 calls, 110 tokens in, 70 tokens out, $0.001380\n", err, 1, true)
  end)

  local hostile = {
    { "runs os.execute", "os.execute('touch /tmp/lmp-agent-escaped') return 0", "global 'os'" },
    { "loops forever", "while true do end", "instruction budget exceeded" },
    { "allocates without bound", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1048576 + i) end return 0", "memory cap of 16 MiB exceeded" },
    { "catches its budget error with pcall", "while true do pcall(function () while true do end end) end", "instruction budget exceeded" },
    { "backtracks in a pattern", "local _ = ('a'):rep(30):find(('a*'):rep(40) .. 'b') return 0", "instruction budget exceeded" },
  }
  for _, case in ipairs(hostile) do
    it("refuses a calculator that " .. case[1] .. ", within a second, writing nothing", function ()
      os.remove("/tmp/lmp-agent-escaped")
      local server = h.fake_server({ { method = "POST", path = "/v1/messages",
        body = anthropic(reply_text(GOOD_ENTRY, bad_calc(case[2]))) } })
      local ws = workspace()
      local t0 = lmp.core.now_ms()
      local _, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH, "--max-rounds", "1",
        "--source-root", FIX .. "/src")
      local elapsed = lmp.core.now_ms() - t0
      server.stop()
      assert.are.equal(3, code, err)
      assert.matches(case[3], err, 1, true)
      assert.matches("no valid calculator after 1 rounds; nothing was written", err, 1, true)
      assert.matches("LLM total: 1 call, 10 tokens in, 20 tokens out, $0.000330\n", err, 1, true)
      assert.is_true(elapsed < h.within(1) * 1000, ("took %d ms"):format(elapsed))
      nothing_written(ws)
      assert.is_nil(io.open("/tmp/lmp-agent-escaped"))
    end)
  end

  for _, params in ipairs({ "[5]", "[{}]", '["numel"]' }) do
    it("sends an entry whose parameters are " .. params .. " back to the LLM as a one-line problem", function ()
      local bad_entry = GOOD_ENTRY:gsub('"parameters": %b[]', '"parameters": ' .. params, 1)
      local server = h.fake_server({
        { method = "POST", path = "/v1/messages", body = anthropic(reply_text(bad_entry, GOOD_CALC)) },
        { method = "POST", path = "/v1/messages", body = GOOD },
      })
      local ws = workspace()
      local out, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH,
        "--source-root", FIX .. "/src")
      server.stop()
      assert.are.equal(0, code, err)
      assert.matches("written after 2 rounds", out, 1, true)
      assert.matches("round 1 refused: the entry for torch.nn.modules.activation.Mish: flop_analysis.parameters[1] must be an object with a name", err, 1, true)
      assert.is_nil(err:find("traceback", 1, true))
      assert.matches("flop_analysis.parameters[1] must be", server.requests(), 1, true) -- told to the LLM
    end)
  end

  it("retries after 429, saying when, and succeeds", function ()
    local server = h.fake_server({
      { method = "POST", path = "/v1/messages", status = 429, headers = { "retry-after: 0" },
        body = '{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}' },
      { method = "POST", path = "/v1/messages", status = 529,
        body = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' },
      { method = "POST", path = "/v1/messages", body = GOOD },
    })
    local ws = workspace()
    local _, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH,
      "--source-root", FIX .. "/src")
    server.stop()
    assert.are.equal(0, code, err)
    assert.are.equal(3, requests(server))
    -- Retry-After: 0 is honoured; then the backoff, LMP_LLM_BACKOFF_MS = 10 doubled once
    assert.matches("lmp: anthropic: HTTP 429: slow down; retrying in 0 s (attempt 2 of 5)\n", err, 1, true)
    assert.matches("lmp: anthropic: HTTP 529: Overloaded; retrying in 0.02 s (attempt 3 of 5)\n", err, 1, true)
    assert.matches("LLM total: 1 call,", err, 1, true) -- refused attempts are not billed
  end)

  it("gives up on a server that does not answer in time", function ()
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", delay_ms = 3000, body = anthropic("late") } })
    local ws = workspace()
    local _, err, code = h.run_env(anthropic_env(server, ws, { LMP_LLM_TIMEOUT_MS = "300", LMP_LLM_RETRIES = "1" }),
      "generate", "--full-class-name", MISH, "--source-root", FIX .. "/src")
    server.stop()
    assert.are.equal(2, code)
    assert.matches("retrying in 0.01 s (attempt 2 of 2)", err, 1, true)
    assert.matches("giving up after 2 attempts", err, 1, true)
    assert.matches("timed out after 300 ms", err, 1, true)
    assert.is_nil(err:find("LLM total", 1, true)) -- nothing answered, nothing spent
    nothing_written(ws)
  end)

  it("stops at once on 401, without printing the key", function ()
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", status = 401,
      body = '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}' } })
    local ws = workspace()
    local _, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH,
      "--source-root", FIX .. "/src")
    server.stop()
    assert.are.equal(2, code)
    assert.matches("anthropic at " .. server.url .. " refused the API key (HTTP 401: invalid x-api-key)", err, 1, true)
    assert.is_nil(err:find("SECRET", 1, true))
    assert.are.equal(1, requests(server))
    nothing_written(ws)
  end)

  it("never replaces an existing calculator or db entry without --force", function ()
    local ws = workspace()
    assert(lmp.core.mkdir_p(ws.user .. "/modules"))
    local f = assert(io.open(ws.calc_file, "w"))
    f:write(GOOD_CALC)
    f:close()
    local server = h.fake_server({})
    local _, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH)
    assert.are.equal(2, code)
    assert.matches("already has a calculator, " .. ws.calc_file .. "; --force replaces it", err, 1, true)
    assert.are.equal(GOOD_CALC, lmp.core.read_file(ws.calc_file))
    -- an entry in the user's overlay without its calculator: the message names the file
    os.remove(ws.calc_file)
    f = assert(io.open(ws.db, "w"))
    f:write('{"torch_Mish": ' .. GOOD_ENTRY .. '}')
    f:close()
    _, err, code = h.run_env(anthropic_env(server, ws), "generate", "--full-class-name", MISH)
    server.stop()
    assert.are.equal(2, code)
    assert.matches(ws.db .. " already has an entry torch_Mish; --force replaces it", err, 1, true)
    assert.are.equal("", server.requests())
  end)
end)

describe("prices", function ()
  local llm = require "lmp.agent.llm"
  it("finds a model's price, dated names included, and nothing for unknown models", function ()
    assert.are.same({ 3, 15 }, { llm.price("claude-sonnet-4-5") })
    assert.are.same({ 3, 15 }, { llm.price("claude-sonnet-4-5-20250929") })
    assert.are.same({ 0.15, 0.6 }, { llm.price("gpt-4o-mini-2024-07-18") })
    assert.are.same({ 2.5, 10 }, { llm.price("gpt-4o") })
    assert.are.same({}, { llm.price("claude-opus-4-5") }) -- not claude-opus-4's price
    assert.is_nil(llm.cost("local-model", 1, 1))
    -- 1,000,000 tokens in at $3 + 2,000,000 out at $15 = $33
    assert.are.equal(33, llm.cost("claude-sonnet-4", 1000000, 2000000))
  end)
end)

describe("source lookup", function ()
  it("cuts the class and its forward out of the module file", function ()
    local src = require("lmp.agent.source").lookup(MISH, { source_root = FIX .. "/src", use_python = false })
    assert.are.equal(10, src.line)
    assert.matches("^class Mish%(Module%):", src.text)
    assert.matches("return F.mish%(input, inplace=self.inplace%)$", src.text)
    assert.is_nil(src.text:find("Hardswish", 1, true))
  end)
end)

describe("storing", function ()
  local function writer_script(db_path, prefix, count)
    return h.write(([[
      local db = require "lmp.db"
      local big = string.rep("x", 50000) -- a large entry makes every write take a while
      for i = 1, %d do
        db.add(%q, %q .. i, { full_class_name = "spec.Big" .. i, note = big })
      end
    ]]):format(count, db_path, prefix), ".lua")
  end

  it("serialises concurrent writers with the lock: no entry is lost", function ()
    local dir = h.tmpdir()
    local db_path = dir .. "/module_db.json"
    local a, b = writer_script(db_path, "a", 15), writer_script(db_path, "b", 15)
    os.execute(("%s %s & %s %s & wait"):format(h.exe, a, h.exe, b))
    local entries = lmp.json_decode(lmp.core.read_file(db_path))
    local n = 0
    for _ in pairs(entries) do n = n + 1 end
    assert.are.equal(30, n)
    assert.are.same({ "module_db.json" }, lmp.core.listdir(dir)) -- the last holder removed the lock file
  end)

  it("leaves a whole file behind when a writer is killed at any moment", function ()
    local dir = h.tmpdir()
    local db_path = dir .. "/module_db.json"
    local script = writer_script(db_path, "k", 1000)
    for round = 1, 8 do
      os.execute(("%s %s & pid=$!; sleep 0.0%d; kill -9 $pid; wait $pid 2>/dev/null"):format(h.exe, script, round))
      if lmp.core.file_kind(db_path) == "file" then
        local ok, err = pcall(lmp.json_decode, lmp.core.read_file(db_path))
        assert.is_true(ok, "round " .. round .. ": " .. tostring(err))
      end
    end
    assert.are.equal("file", lmp.core.file_kind(db_path))
  end)
end)

describe("LMP_PROMPT", function ()
  it("replaces the prompt without rebuilding", function ()
    local custom = h.write([[
      local base = require "lmp.agent.prompt"
      return { build = function (ctx) local s, u = base.build(ctx); return s, "CUSTOM PROMPT MARKER\n" .. u end,
               parse = base.parse }
    ]], ".lua")
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = anthropic(reply_text(GOOD_ENTRY, GOOD_CALC)) } })
    local ws = workspace()
    local env = anthropic_env(server, ws, { LMP_PROMPT = custom })
    local _, err, code = h.run_env(env, "generate", "--full-class-name", MISH, "--source-root", FIX .. "/src")
    server.stop()
    os.remove(custom)
    assert.are.equal(0, code, err)
    assert.matches("CUSTOM PROMPT MARKER", server.requests(), 1, true)
  end)
end)
