-- Nothing lost: every write is checked and reaches its file whole or not at all, temporary
-- files cannot be redirected, a calculator counts only with its db entry, and what lmp
-- prints is valid (JSON) and harmless (a terminal) whatever the names it holds.
local lmp = require "lmp"
local h = require "spec.helpers"

local CONFIG = h.CONFIGS .. "openai-community--gpt2.json"

local function sh(cmd) return os.execute(cmd) end
local quote, read = h.quote, h.read_file
local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end
local ROOT = io.popen("pwd"):read("l")
local function absolute(path) return path:sub(1, 1) == "/" and path or (ROOT .. "/" .. path) end
local function is_symlink(path) return sh("test -L " .. quote(path)) == true end

describe("output", function ()
  it("a write error on --out FILE is a one-line error, exit 2 (a device is written, never replaced)", function ()
    if lmp.core.file_kind("/dev/full") == nil then return pending("no /dev/full here") end
    -- through a symlink, so that the old code (which renamed a file over the name) could not
    -- replace /dev/full itself: it replaced the link and exited 0
    local dir = h.tmpdir()
    assert.is_truthy(sh(("ln -s /dev/full %s/full"):format(quote(dir))))
    local _, err, code = h.run("export", CONFIG, "--out", dir .. "/full")
    assert.are.equal(2, code)
    assert.are.equal(("lmp: export: %s/full: cannot write: No space left on device\n"):format(dir), err)
    assert.is_true(is_symlink(dir .. "/full"))
    assert.are.equal("other", lmp.core.file_kind("/dev/full"))
    -- and to stdout: the device and the folder hold no stray file
    local out
    out, err, code = h.run("export", CONFIG, "--out", "/dev/stdout")
    assert.are.same({ "", 0 }, { err, code })
    assert.matches('^{\n  "model_id": "gpt2"', out)
    assert.are.same({ "full" }, lmp.core.listdir(dir))
  end)

  it("stdout of export to a full device or a closed stdout: exit 2, one line", function ()
    if lmp.core.file_kind("/dev/full") == nil then return pending("no /dev/full here") end
    for _, redirect in ipairs({ ">/dev/full", ">&-" }) do
      local p = io.popen(("%s export %s 2>&1 %s"):format(quote(h.exe), quote(CONFIG), redirect))
      local err = p:read("a")
      local _, _, code = p:close()
      assert.are.equal(2, code, redirect)
      assert.matches("^lmp: cannot write to standard output[^\n]*\n$", err)
    end
  end)

  -- a real full disk: a 64 KiB tmpfs (needs mount rights; pending elsewhere)
  it("a full disk leaves the old --out file whole and no temporary file", function ()
    local dir = h.tmpdir()
    if not sh(("mount -t tmpfs -o size=64k lmp-spec %s 2>/dev/null"):format(quote(dir))) then
      return pending("cannot mount a tmpfs here (not root)")
    end
    finally(function () sh("umount " .. quote(dir)) end)
    write(dir .. "/out.json", "old\n")
    sh(("dd if=/dev/zero of=%s/filler bs=4k 2>/dev/null"):format(quote(dir))) -- until the disk is full
    local _, err, code = h.run("export", CONFIG, "--out", dir .. "/out.json")
    assert.are.equal(2, code)
    assert.matches(("^lmp: export: %s/out.json: cannot write: No space left on device\n$"):format(dir:gsub("%p", "%%%0")), err)
    assert.are.equal("old\n", read(dir .. "/out.json"))
    assert.are.same({ "filler", "out.json" }, lmp.core.listdir(dir))
  end)
end)

describe("temporary files", function ()
  -- every name the old scheme could pick (PATH.tmp.<pid>, with the pid known in advance by
  -- `exec`), and a few others a guesser would try, each a symlink to a victim
  local function plant(dir, pid)
    local victims = {}
    for _, name in ipairs({ "out.json.tmp." .. pid, "out.json.tmp", ".out.json.tmp", "out.json~", "out.json.new" }) do
      local victim = dir .. "/victim-" .. #victims
      write(victim, "victim\n")
      assert.is_truthy(sh(("ln -s %s %s"):format(quote(victim), quote(dir .. "/" .. name))))
      victims[#victims + 1] = victim
    end
    return victims
  end

  it("are never opened through a planted symlink (export --out)", function ()
    local dir = h.tmpdir()
    local victims = {}
    for i = 0, 4 do
      local victim = dir .. "/victim-" .. i
      write(victim, "victim\n")
      victims[#victims + 1] = victim
    end
    -- the shell plants the links for its own pid, then becomes lmp (same pid)
    local script = ([[cd %s && ln -s victim-0 out.json.tmp.$$ && ln -s victim-1 out.json.tmp && ]] ..
      [[ln -s victim-2 .out.json.tmp && ln -s victim-3 out.json~ && ln -s victim-4 out.json.new && ]] ..
      [[exec %s export %s --out out.json]]):format(quote(dir), quote(absolute(h.exe)), quote(absolute(CONFIG)))
    local p = io.popen("sh -c " .. quote(script) .. " 2>&1")
    local err = p:read("a")
    local _, _, code = p:close()
    assert.are.same({ "", 0 }, { err, code })
    for _, victim in ipairs(victims) do assert.are.equal("victim\n", read(victim)) end
    assert.is_false(is_symlink(dir .. "/out.json"))
    assert.matches('^{\n  "model_id": "gpt2"', read(dir .. "/out.json"))
    -- nothing left behind but the planted links, the victims and the output
    assert.are.equal(11, #lmp.core.listdir(dir))
  end)

  it("are never opened through a planted symlink (every caller of write_file_atomic)", function ()
    local dir = h.tmpdir()
    local pid = read("/proc/self/stat"):match("^%d+")
    local victims = plant(dir, pid)
    assert.is_true(lmp.core.write_file_atomic(dir .. "/out.json", "new\n"))
    for _, victim in ipairs(victims) do assert.are.equal("victim\n", read(victim)) end
    assert.are.equal("new\n", read(dir .. "/out.json"))
    -- a symlink at the target itself is replaced, its target left alone
    assert.is_true(lmp.core.write_file_atomic(dir .. "/out.json.new", "newer\n"))
    assert.are.equal("victim\n", read(victims[5]))
    assert.is_false(is_symlink(dir .. "/out.json.new"))
    assert.are.equal("newer\n", read(dir .. "/out.json.new"))
  end)
end)

describe("formula nesting", function ()
  local function nested(n) return string.rep("(", n) .. "1" .. string.rep(")", n) end

  it("accepts the documented 64 levels of parentheses and refuses 65 in one line", function ()
    assert.are.equal(1, lmp.eval(nested(64), {}))
    assert.are.equal(7, lmp.eval("ceil(" .. nested(63) .. " * 7)", {})) -- a call's parentheses count too
    local err = tostring(h.error_of(lmp.eval, nested(65), {}))
    assert.matches("column 66: formula nested too deeply %(more than 64 levels%)$", err)
    assert.is_nil(err:find("\n"))
    -- a long chain of unary operators is not nesting
    assert.are.equal(1, lmp.eval(string.rep("-", 2000) .. "1", {}))
  end)
end)

describe("names from a model file", function ()
  -- raw bytes that are not UTF-8 (\xff; \xc3 without its continuation), and controls written
  -- as JSON escapes: ESC ... CSI (clear screen), DEL, C1 CSI (U+009B), an OSC retitle with BEL
  local model = h.write('{"model_id": "spec/\\u001b]0;pwned\\u0007", "layers": [' ..
    '{"name": "l\255\195in\\u001b[2J\\u007f\\u009b", "class": "torch.nn.modules.linear.Linear",' ..
    ' "parameters": {"in_features": 4, "out_features": 2, "bias": true, "N": 1}},' ..
    '{"name": "other", "class": "mypkg.mod.Cl\\u001b[31mass", "parameters": {}}]}')

  it("give valid JSON: each byte that is not UTF-8 becomes U+FFFD, controls are escaped", function ()
    local out, _, code = h.run("analyze", model, "--format", "json")
    assert.are.equal(1, code) -- one unknown class
    -- python3's json module, on the bytes decoded as strict UTF-8
    local check = h.write(out)
    local p = io.popen(("/usr/bin/python3 -c %s < %s 2>&1"):format(quote(
      "import json,sys; d=json.loads(sys.stdin.buffer.read().decode('utf-8')); " ..
      "print(ascii(d['tree'][0]['name']), ascii(d['model_id']), ascii(d['unknown_modules'][0]['class']))"), check))
    local said = p:read("a")
    assert.is_true(p:close(), said)
    assert.are.equal([['l\ufffd\ufffdin\x1b[2J\x7f\x9b' 'spec/\x1b]0;pwned\x07' 'mypkg.mod.Cl\x1b[31mass']] .. "\n", said)
    assert.is_nil(out:find("[\0-\9\11-\31]")) -- no raw control character but the final newline
  end)

  it("are shown with their control characters and stray bytes visible in the table, markdown and errors", function ()
    for _, format in ipairs({ "table", "markdown" }) do
      local out, err = h.run_env({ COLUMNS = "300" }, "analyze", model, "--format", format)
      for _, text in ipairs({ out, err }) do
        assert.is_nil(text:find("[\0-\9\11-\31\127]"), format) -- no control but the newline
        assert.is_nil(text:find("\194[\128-\159]"), format) -- no C1 control
        assert.is_true(utf8.len(text) ~= nil, format)
      end
      assert.truthy(out:find([[l\xff\xc3in\x1b[2J\x7f\u009b]], 1, true), format)
      assert.truthy(out:find([[spec/\x1b]0;pwned\x07 |]], 1, true), format)
      assert.truthy(out:find([[Cl\x1b[31mass]], 1, true), format)
      assert.truthy(err:find([[no calculator for mypkg.mod.Cl\x1b[31mass]], 1, true), format)
    end
    -- printable text, accented letters included, is left as it is
    assert.are.equal("café ×2 a\\b", require("lmp.report").visible("café ×2 a\\b"))
  end)
end)

describe("the Hub caches", function ()
  local hub = require "lmp.hub"

  it("refuse the ids huggingface_hub refuses, whose cache names would collide (a--b/c, a/b--c)", function ()
    for _, id in ipairs({ "a--b/c", "a/b--c", "a-/b", "a/-b", "a/b.", "a..b/c", "a/b/c", "a/" .. ("x"):rep(97) }) do
      local _, err, code = h.run_env({ HF_HUB_OFFLINE = "1", HF_HOME = h.tmpdir(), LMP_CACHE = h.tmpdir(), HF_HUB_CACHE = "" },
                                     "analyze", "--model-id", id)
      assert.are.equal(2, code, id)
      assert.are.equal(("lmp: '%s' is not a Hugging Face model id (ORG/NAME of letters, digits, '_', '-', '.'; " ..
        "no '--' or '..')\n"):format(id), err)
    end
    for _, id in ipairs({ "openai-community/gpt2", "gpt2", "a_b/c.d-e_", "_x/y", "a/" .. ("x"):rep(96) }) do
      assert.are.equal(id, hub.check_id(id))
    end
  end)

  it("keep revisions apart that differ in / and -- (refs/pr/1, refs--pr--1)", function ()
    local id = "spec-org/Llama-2-7b-copy"
    local config = lmp.core.read_file(h.CONFIGS .. "meta-llama--Llama-2-7b-hf.json")
    local server = h.fake_server({ { path = "/" .. id .. "/resolve/refs%2Fpr%2F1/config.json", body = config } })
    local env = { HF_HOME = h.tmpdir(), LMP_CACHE = h.tmpdir(), HF_HUB_CACHE = "", HF_TOKEN = "", HF_TOKEN_PATH = "",
                  HUGGING_FACE_HUB_TOKEN = "", HF_HUB_OFFLINE = "", HF_ENDPOINT = server.url }
    local _, err, code = h.run_env(env, "export", id, "--revision", "refs/pr/1")
    server.stop()
    assert.are.equal(0, code, err)
    env.HF_HUB_OFFLINE = "1"
    _, err, code = h.run_env(env, "export", id, "--revision", "refs--pr--1")
    assert.are.equal(2, code)
    assert.matches("HF_HUB_OFFLINE=1 forbids downloading it", err, 1, true)
    assert.are.same({ "spec-org--Llama-2-7b-copy@refs%2Fpr%2F1" }, lmp.core.listdir(env.LMP_CACHE .. "/hub"))
  end)
end)

describe("a generated calculator and its db entry", function ()
  local json = require "lmp.json"
  local FIX = h.fixtures .. "/agent"
  local MISH = "torch.nn.modules.activation.Mish"
  local CALC = lmp.core.read_file(FIX .. "/mish.lua")
  local ENTRY = lmp.core.read_file(FIX .. "/mish.json")
  local REPLY = json.encode({ id = "msg_1", type = "message", role = "assistant", model = "claude-test",
    content = { { type = "text", text = "```json\n" .. ENTRY .. "\n```\n```lua\n" .. CALC .. "```\n" } },
    stop_reason = "end_turn", usage = { input_tokens = 1, output_tokens = 1 } })
  -- Mish over 64 elements at 5 FLOPs each (the fixture's calculator)
  local MODEL = '[{"name": "act", "class": "' .. MISH .. '", "parameters": {"numel": 64}}]'
  local OLD_HEADER = "-- Generated by lmp 0.9.0 with claude-test (anthropic) on 2026-01-01; review it before trusting its figures.\n"

  -- a user data folder, and the environment of a generate against a fake Anthropic server
  local function workspace()
    local dir = h.tmpdir()
    local user = dir .. "/data/lmp"
    assert(lmp.core.mkdir_p(user .. "/modules"))
    return { user = user, db = user .. "/module_db.json", calc = user .. "/modules/torch_mish.lua",
             env = { HOME = dir, XDG_DATA_HOME = dir .. "/data", ANTHROPIC_API_KEY = "k", OPENAI_BASE_URL = "",
                     OPENAI_API_KEY = "", LMP_LLM_PROVIDER = "", LMP_LLM_MODEL = "", LMP_GENERATE = "" } }
  end
  local function generate(ws, ...)
    local server = h.fake_server({ { method = "POST", path = "/v1/messages", body = REPLY } })
    ws.env.ANTHROPIC_BASE_URL = server.url
    local out, err, code = h.run_env(ws.env, "generate", "--full-class-name", MISH, "--source",
      FIX .. "/src/torch/nn/modules/activation.py", ...)
    server.stop()
    return out, err, code
  end
  local function flops(ws)
    local out, err, code = h.run_env(ws.env, "analyze", "--model-json", h.model(MODEL), "--format", "json")
    return code == 0 and lmp.json_decode(out).totals.flops or nil, err, code
  end

  it("are written as one: a calculator left without its entry is refused by analyze and redone by generate", function ()
    -- what a kill -9 between the two writes left: the calculator, no entry
    local ws = workspace()
    write(ws.calc, OLD_HEADER .. CALC)
    local f, err, code = flops(ws)
    assert.is_nil(f, "analyze used a calculator without its entry")
    assert.are.equal(3, code)
    assert.matches("^lmp: [^\n]+%$%.layers%[0%] %(act%): [^\n]+\n$", err) -- one line, naming the layer
    assert.matches(("%s is an incomplete generated calculator: its entry torch_Mish is in neither %s nor %s " ..
      "(lmp generate was interrupted); `lmp generate --full-class-name %s` writes both again\n")
      :format(ws.calc, lmp.db_path, ws.db, MISH), err, 1, true)
    -- generate redoes it without --force
    local _, gerr, gcode = generate(ws)
    assert.are.equal(0, gcode, gerr)
    local id = lmp.core.read_file(ws.calc):match("^[^\n]*\n%-%- lmp entry id: (%w+)\n")
    assert.is_truthy(id)
    assert.are.equal(id, lmp.json_decode(lmp.core.read_file(ws.db)).torch_Mish.generated.id)
    assert.are.equal(5 * 64, (flops(ws)))
    -- now whole, it is not redone without --force
    _, gerr, gcode = generate(ws)
    assert.are.equal(2, gcode)
    assert.matches("already has a calculator, " .. ws.calc .. "; --force replaces it", gerr, 1, true)
  end)

  it("a calculator whose entry is another generation's (a --force cut short) is incomplete too", function ()
    local ws = workspace()
    assert.are.equal(0, select(3, generate(ws)))
    local text = lmp.core.read_file(ws.calc)
    write(ws.calc, (text:gsub("\n%-%- lmp entry id: %w+\n", "\n-- lmp entry id: 0123abcd\n", 1)))
    local f, err, code = flops(ws)
    assert.is_nil(f)
    assert.are.equal(3, code)
    assert.matches("incomplete generated calculator: the torch_Mish entry is another generation's", err, 1, true)
    assert.are.equal(0, select(3, generate(ws)))
    assert.are.equal(5 * 64, (flops(ws)))
  end)

  it("an entry that cannot be written leaves no calculator (or the old one) behind", function ()
    local ws = workspace()
    assert(lmp.core.mkdir_p(ws.db)) -- module_db.json is a folder: its write fails
    local _, err, code = generate(ws)
    assert.are.equal(2, code)
    assert.matches("\nlmp: " .. ws.db:gsub("%p", "%%%0") .. ": cannot rename: [^\n]+\n$", err)
    assert.is_nil(lmp.core.file_kind(ws.calc))
    -- with --force over a whole pair, the old calculator stays
    os.execute("rmdir " .. quote(ws.db))
    assert.are.equal(0, select(3, generate(ws)))
    local before = lmp.core.read_file(ws.calc)
    local entries = lmp.core.read_file(ws.db)
    os.remove(ws.db)
    assert(lmp.core.mkdir_p(ws.db))
    _, err, code = generate(ws, "--force")
    assert.are.equal(2, code, err)
    assert.are.equal(before, lmp.core.read_file(ws.calc))
    os.execute("rmdir " .. quote(ws.db))
    write(ws.db, entries)
    assert.are.equal(5 * 64, (flops(ws)))
  end)
end)
