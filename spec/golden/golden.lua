-- The golden outputs (docs/golden.md): what lmp prints for every bundled model in every
-- format, and its other read-only commands, frozen in spec/fixtures/golden/ so that a
-- restructure can prove it changed no byte. Used by spec/golden/golden_spec.lua and, as a
-- script, by scripts/golden (`lmp spec/golden/golden.lua [--update] [PATTERN]`).
-- Each case runs as a user runs it: a separate `lmp` process, from the checkout, with a
-- fixed environment (COLUMNS=100, HOME an empty folder, nothing else but PATH).
local lmp = require "lmp"

local golden = {}

golden.DIR = "spec/fixtures/golden"
golden.REFRESH = "scripts/golden --update"

local RUNS = {
  { "prefill", {} },
  { "decode", { "--phase", "decode", "--kv-len", "4095", "--batch", "8" } },
  { "train", { "--phase", "train", "--batch", "2", "--seq", "512" } },
  { "generate", { "--phase", "generate", "--seq", "128", "--new-tokens", "4" } },
  { "int4-fp8", { "--w-bits", "int4", "--kv-bits", "fp8" } },
}
local FORMATS = { "table", "json", "csv", "markdown" }
local COMMANDS = { "analyze", "export", "models", "module", "db", "generate" } -- each one's --help

-- usage errors name the lists of phases, formats and inputs that the restructure moves
local ERRORS = {
  { "phase", { "analyze", "models/gpt2.json", "--phase", "sample" } },
  { "format", { "analyze", "models/gpt2.json", "--format", "xml" } },
  { "bits", { "analyze", "models/gpt2.json", "--w-bits", "3.5" } },
  { "count", { "analyze", "models/gpt2.json", "--seq", "1.5k" } },
  { "decode-kv", { "analyze", "models/gpt2.json", "--phase", "decode" } },
  { "option", { "analyze", "models/gpt2.json", "--bogus" } },
  { "command", { "frobnicate" } },
  { "module-param", { "module", "flops", "torch.nn.Linear", "N=4", "in_features=8" } },
}

local function sorted_files(dir, suffix)
  local names = {}
  for _, name in ipairs(assert(lmp.core.listdir(dir))) do
    if name:sub(-#suffix) == suffix then names[#names + 1] = name:sub(1, -#suffix - 1) end
  end
  return names
end

-- cases() -> list of { name =, args = }, in a fixed order
function golden.cases()
  local list = {}
  local function add(name, args) list[#list + 1] = { name = name, args = args } end
  for _, model in ipairs(sorted_files("models", ".json")) do
    for _, run in ipairs(RUNS) do
      for _, format in ipairs(FORMATS) do
        local args = { "analyze", "models/" .. model .. ".json", table.unpack(run[2]) }
        if format ~= "table" then table.move({ "--format", format }, 1, 2, #args + 1, args) end
        add(("analyze-%s-%s-%s"):format(model, run[1], format), args)
      end
    end
  end
  add("analyze-llama-2-7b-hf-depth-9", { "analyze", "models/llama-2-7b-hf.json", "--depth", "9" })
  add("analyze-t5-small-enc-len-64", { "analyze", "models/t5-small.json", "--enc-len", "64", "--format", "csv" })
  for _, stem in ipairs(sorted_files("modules_lua", ".lua")) do
    local f = assert(io.open("modules_lua/" .. stem .. ".lua"))
    local class = assert(f:read("a"):match('full_class_name%s*=%s*"([^"]+)"'), stem)
    f:close()
    add("module-show-" .. stem, { "module", "show", class })
  end
  -- the builders' trees, whole (the analyses above read models/, not the builders)
  for _, config in ipairs(sorted_files("spec/fixtures/configs", ".json")) do
    add("export-" .. config, { "export", "spec/fixtures/configs/" .. config .. ".json" })
  end
  -- the Lua API, as the examples use it (export_csv writes a file instead)
  for _, example in ipairs(sorted_files("examples", ".lua")) do
    if example ~= "export_csv" then add("example-" .. example, { "examples/" .. example .. ".lua" }) end
  end
  add("module-compute-linear", { "module", "compute", "torch.nn.Linear", "N=10", "in_features=512", "out_features=1024" })
  add("module-list", { "module", "list" })
  add("models", { "models" })
  add("db-check", { "db", "check" })
  add("help", { "--help" })
  for _, c in ipairs(COMMANDS) do add("help-" .. c, { c, "--help" }) end
  add("help-script", { "help", "script" })
  for _, e in ipairs(ERRORS) do add("error-" .. e[1], e[2]) end
  return list
end

local function quote(s)
  return s:match("^[%w%._/:=+-]+$") and s or ("'" .. s:gsub("'", "'\\''") .. "'")
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function shell(cmd) return io.popen(cmd):read("a"):gsub("\n$", "") end

-- Runner(exe) -> runner: runner.run(case) -> the case's text; runner.close() removes its HOME.
-- The text names the command, its exit code, stdout and stderr (sizes in bytes, so that a
-- missing final newline shows), with the checkout and HOME written $ROOT and $HOME (and the
-- sizes counted so).
function golden.runner(exe)
  local root, home = shell("pwd -P"), os.tmpname()
  os.remove(home)
  assert(lmp.core.mkdir_p(home))
  local errfile = home .. ".stderr"
  local env = { "env", "-i", "PATH=/usr/bin:/bin", "HOME=" .. quote(home), "COLUMNS=100" }
  for _, k in ipairs({ "ASAN_OPTIONS", "UBSAN_OPTIONS" }) do -- the sanitizer pass's settings
    if os.getenv(k) then env[#env + 1] = k .. "=" .. quote(os.getenv(k)) end
  end
  local prefix = table.concat(env, " ") .. " " .. quote(exe)
  local function paths(s)
    return (s:gsub(home:gsub("%p", "%%%0"), "$HOME"):gsub(root:gsub("%p", "%%%0"), "$ROOT"))
  end
  local runner = {}
  function runner.run(case)
    local words = {}
    for i, a in ipairs(case.args) do words[i] = quote(a) end
    local line = table.concat(words, " ")
    local p = io.popen(prefix .. " " .. line .. " 2>" .. quote(errfile))
    local out = p:read("a")
    local _, _, code = p:close()
    -- sizes after $ROOT/$HOME stand in for the paths: the same in every checkout
    local err
    out, err = paths(out), paths(read_file(errfile) or "")
    return ("$ lmp %s\n--- exit %d, stdout %d bytes\n%s--- stderr %d bytes\n%s"):format(line, code, #out, out, #err, err)
  end
  function runner.close()
    os.remove(errfile)
    os.execute("rm -rf " .. quote(home))
  end
  return runner
end

function golden.path(case) return golden.DIR .. "/" .. case.name .. ".txt" end

function golden.expected(case) return read_file(golden.path(case)) end

-- difference(expected, actual) -> nil when equal, else a message naming the first differing line
function golden.difference(expected, actual)
  if expected == actual then return nil end
  local function lines(s)
    local t = {}
    for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
    return t
  end
  local a, b = lines(expected), lines(actual)
  local i = 1
  while a[i] == b[i] do i = i + 1 end
  return ("line %d differs:\n  expected: %s\n  actual:   %s"):format(i, a[i] or "(end of file)", b[i] or "(end of file)")
end

-- the script: check every case (exit 1 on a difference), or --update the files
local function main(args)
  local update, pattern = false, nil
  for _, a in ipairs(args) do
    if a == "--update" then update = true else pattern = a end
  end
  local runner = golden.runner(lmp.executable)
  if update then assert(lmp.core.mkdir_p(golden.DIR)) end
  local wanted, failed, written = {}, 0, 0
  for _, case in ipairs(golden.cases()) do
    wanted[case.name .. ".txt"] = true
    if not pattern or case.name:find(pattern) then
      local actual = runner.run(case)
      local diff = golden.difference(golden.expected(case) or "", actual)
      if diff and update then
        assert(lmp.core.write_file_atomic(golden.path(case), actual))
        written = written + 1
      elseif diff then
        failed = failed + 1
        io.stderr:write(("%s: %s\n"):format(golden.path(case), diff))
      end
    end
  end
  runner.close()
  local stale = 0
  for _, name in ipairs(lmp.core.listdir(golden.DIR) or {}) do
    if not wanted[name] and name:match("%.txt$") then
      stale = stale + 1
      if update then os.remove(golden.DIR .. "/" .. name) else io.stderr:write(golden.DIR .. "/" .. name .. ": no such case\n") end
    end
  end
  if update then
    print(("%d cases written, %d stale files removed, in %s"):format(written, stale, golden.DIR))
    return 0
  end
  if failed + stale > 0 then
    io.stderr:write(("%d cases differ, %d stale; if the change is intended: %s (and say why in the commit)\n")
      :format(failed, stale, golden.REFRESH))
    return 1
  end
  print("all golden outputs match")
  return 0
end

if arg and arg[0] and arg[0]:match("golden%.lua$") then os.exit(main(arg)) end
return golden
