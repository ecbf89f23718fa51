-- Shared helpers for the specs. Specs run inside the lmp host from the repository root:
--   ./build/lmp /usr/bin/busted --ignore-lua spec
local lmp = require "lmp"

local helpers = {}

helpers.exe = os.getenv("LMP_EXE") or lmp.executable

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
helpers.quote = shell_quote -- a word for /bin/sh, whatever it holds

-- read_file(path) -> its bytes, or nil when it cannot be opened
function helpers.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- run_env(env, args...) -> stdout, stderr, exit code of `lmp args...` with extra
-- environment variables (env: name -> value)
function helpers.run_env(env, ...)
  local prefix = { "env" }
  for k, v in pairs(env) do prefix[#prefix + 1] = k .. "=" .. shell_quote(v) end
  return helpers.run_prefixed(table.concat(prefix, " "), ...)
end

-- run(args...) -> stdout, stderr, exit code of `lmp args...`
function helpers.run(...)
  return helpers.run_prefixed("", ...)
end

-- sh(command_line) -> stdout, stderr, exit code of a /bin/sh command line
function helpers.sh(cmd)
  local errfile = os.tmpname()
  local p = io.popen("(" .. cmd .. ") 2>" .. errfile)
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile)
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return out, err, code
end

function helpers.run_prefixed(prefix, ...)
  local parts = { prefix, shell_quote(helpers.exe) }
  for _, a in ipairs({ ... }) do parts[#parts + 1] = shell_quote(a) end
  return helpers.sh(table.concat(parts, " "))
end

-- write(text [, suffix]) -> path of a temporary file holding text
function helpers.write(text, suffix)
  local path = os.tmpname() .. (suffix or ".json")
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- model(layers_json) -> path of a model file with those layers
function helpers.model(layers_json)
  return helpers.write('{"model_id": "spec/model", "layers": ' .. layers_json .. '}')
end

-- error_of(fn, ...) -> the lmp.Error raised by fn (fails the spec when none is raised)
function helpers.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got none")
  return err
end

helpers.fixtures = "spec/fixtures"

-- ---- builder specs: the reference configs, edited copies, and models built from them ----

helpers.CONFIGS = "spec/fixtures/configs/" -- Hugging Face config.json files (spec/fixtures/configs/README.md)
helpers.AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
helpers.REMOVE = {} -- a change that removes the field

-- edited_config(name, changes) -> the reference config `name` with `changes` applied
function helpers.edited_config(name, changes)
  local cfg = lmp.read_config(helpers.CONFIGS .. name)
  for k, v in pairs(changes) do
    if v == helpers.REMOVE then cfg[k] = nil else cfg[k] = v end
  end
  return cfg
end

-- build(cfg) -> a model built from a config table, through the JSON a user would export
function helpers.build(cfg)
  return lmp.load_model_string(lmp.model_json(lmp.build(cfg, { source = "spec" })), "spec")
end

-- build_error(cfg) -> a function that builds cfg, for assert.error_matches
function helpers.build_error(cfg)
  return function () lmp.build(cfg, { source = "spec" }) end
end

-- Time bounds in specs ("refused within a second") are for a normal build; under valgrind
-- everything runs 10-50x slower, so scripts/test sets LMP_SLOW_FACTOR for that pass.
helpers.slow_factor = tonumber(os.getenv("LMP_SLOW_FACTOR") or "") or 1
function helpers.within(seconds) return seconds * helpers.slow_factor end

-- cpu_seconds(fn, ...) -> CPU seconds fn took (this process and the children it waited for:
-- an lmp run by helpers.run counts), then fn's results. The bounds the sandbox and the input
-- limits promise are CPU time, which other work on a busy machine does not stretch.
function helpers.cpu_seconds(fn, ...)
  local t0 = lmp.core.cpu_seconds()
  local r = table.pack(fn(...))
  return lmp.core.cpu_seconds() - t0, table.unpack(r, 1, r.n)
end

-- tmpdir() -> a new empty folder
function helpers.tmpdir()
  local path = os.tmpname()
  os.remove(path)
  assert(lmp.core.mkdir_p(path))
  return path
end

-- fake_server(rules) -> server: a scripted HTTP server on 127.0.0.1 (tests/tools/fake_http_server.c).
-- rules: { {method=, path=, status=, body=, delay_ms=, headers={"Name: value"}}, ... }, served
-- in order per method and path. server.url, server.requests() (the log), server.stop().
function helpers.fake_server(rules)
  local dir = helpers.tmpdir()
  local lines = {}
  for i, r in ipairs(rules) do
    local body_file = "-"
    if r.body then
      body_file = "body" .. i
      local f = assert(io.open(dir .. "/" .. body_file, "wb"))
      f:write(r.body)
      f:close()
    end
    local fields = { r.method or "GET", r.path, tostring(r.status or 200), tostring(r.delay_ms or 0), body_file }
    for _, h in ipairs(r.headers or {}) do fields[#fields + 1] = h end
    lines[#lines + 1] = table.concat(fields, "\t")
  end
  local script = dir .. "/script"
  local f = assert(io.open(script, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local exe = os.getenv("LMP_FAKE_HTTP") or (helpers.exe:match("^(.*)/[^/]*$") .. "/fake_http_server")
  local port_file, log = dir .. "/port", dir .. "/log"
  local pid = io.popen(("%s --script %s --port-file %s --log %s >/dev/null 2>&1 & echo $!")
    :format(shell_quote(exe), shell_quote(script), shell_quote(port_file), shell_quote(log))):read("l")
  local port
  for _ = 1, 200 do
    local pf = io.open(port_file)
    if pf then port = pf:read("l"); pf:close() end
    if port then break end
    os.execute("sleep 0.01")
  end
  assert(port, "the fake server did not start")
  return {
    url = "http://127.0.0.1:" .. port,
    dir = dir,
    requests = function ()
      local lf = io.open(log)
      if not lf then return "" end
      local text = lf:read("a")
      lf:close()
      return text
    end,
    stop = function () os.execute("kill " .. pid .. " 2>/dev/null") end,
  }
end

return helpers
