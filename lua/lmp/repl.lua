-- The REPL's Lua side (the loop itself is src/repl.c): how values print, tab completion,
-- :commands and where the history lives.
local core = require "lmp.core"
local util = require "lmp.util"
local env = util.env

local repl = {}

-- start() -> the history path; defines the global help()
function repl.start()
  _G.help = require("lmp.help").help
  return repl.history_path()
end

-- $XDG_STATE_HOME/lmp/history (default ~/.local/state/lmp/history); LMP_HISTORY overrides
function repl.history_path()
  if env("LMP_HISTORY") then return env("LMP_HISTORY") end
  local dir = (env("XDG_STATE_HOME") or ((env("HOME") or ".") .. "/.local/state")) .. "/lmp"
  core.mkdir_p(dir)
  return dir .. "/history"
end

-- how a value prints: a table one item a line, keys sorted after the list part, at most
-- MAX_ITEMS items a table and MAX_DEPTH levels; results and nodes by their __tostring
repl.MAX_ITEMS, repl.MAX_DEPTH = 20, 3

local function render(v, indent, seen)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  local n, keys = #v, {}
  for i = 1, n do keys[i] = i end
  local named = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then named[#named + 1] = k end
  end
  table.sort(named, function (a, b) return tostring(a) < tostring(b) end)
  table.move(named, 1, #named, n + 1, keys)
  if #keys == 0 then return "{}" end
  if seen[v] then return "{...} (a table that contains itself)" end
  if indent >= repl.MAX_DEPTH then return ("{ ... %d item%s }"):format(#keys, #keys == 1 and "" or "s") end
  seen[v] = true
  local pad = string.rep("  ", indent + 1)
  local lines = { "{" }
  for i = 1, math.min(#keys, repl.MAX_ITEMS) do
    local k = keys[i]
    local key = ""
    if i > n then
      key = (type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. render(k, repl.MAX_DEPTH, seen) .. "]")) .. " = "
    end
    lines[#lines + 1] = pad .. key .. render(v[k], indent + 1, seen) .. ","
  end
  if #keys > repl.MAX_ITEMS then lines[#lines + 1] = pad .. ("... %d more"):format(#keys - repl.MAX_ITEMS) end
  lines[#lines + 1] = string.rep("  ", indent) .. "}"
  seen[v] = nil
  return table.concat(lines, "\n")
end

-- render(value) -> the text the REPL prints for it
function repl.render(v) return render(v, 0, {}) end

function repl.show(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = repl.render((select(i, ...))) end
  print(table.concat(parts, "\t"))
end

-- where the word being completed sits: inside a string literal (its quote's position), or nil
local function open_quote(line)
  local quote, at, i = nil, nil, 1
  while i <= #line do
    local c = line:sub(i, i)
    if quote then
      if c == "\\" then i = i + 1 elseif c == quote then quote = nil end
    elseif c == '"' or c == "'" then
      quote, at = c, i
    elseif line:sub(i, i + 1) == "--" then
      return nil
    end
    i = i + 1
  end
  return quote and at
end

-- file names (a folder gets a "/") and module class names that start with `text`
local function string_candidates(text)
  local out = {}
  local dir, base = text:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", text end
  for _, name in ipairs(core.listdir(dir == "" and "." or dir) or {}) do
    if name:sub(1, #base) == base and (base:sub(1, 1) == "." or name:sub(1, 1) ~= ".") then
      out[#out + 1] = dir .. name .. (core.file_kind(dir .. name) == "directory" and "/" or "")
    end
  end
  local ok, rows = pcall(function () return require("lmp.registry").list() end)
  for _, r in ipairs(ok and rows or {}) do
    for _, name in ipairs({ r.full_class_name, r.key }) do
      if name and name ~= text and name:sub(1, #text) == text then out[#out + 1] = name end
    end
  end
  return out
end

-- globals and fields of tables reached by a dotted or colon path; a table gets a "."
local function field_candidates(word)
  local out = {}
  local path, sep, prefix = word:match("^(.*)([.:])([%w_]*)$")
  local t = _G
  if path then
    for part in path:gmatch("[^.:]+") do
      local nextv = type(t) == "table" and rawget(t, part) or nil
      -- through __index too: a calculator object is a userdata whose fields its metatable gives
      local mt = getmetatable(t)
      if nextv == nil and (type(t) == "table" or (mt and mt.__index)) then nextv = t[part] end
      t = nextv
      if t == nil then return out end
    end
  else
    prefix = word
  end
  local seen = {}
  local function add_from(tbl)
    if type(tbl) ~= "table" then return end
    for k, v in pairs(tbl) do
      if type(k) == "string" and k:sub(1, #prefix) == prefix and not seen[k] and (sep ~= ":" or type(v) == "function") then
        seen[k] = true
        out[#out + 1] = (path and (path .. sep) or "") .. k .. (type(v) == "table" and "." or "")
      end
    end
  end
  add_from(t)
  local mt = getmetatable(t)
  if mt and type(mt.__index) == "table" then add_from(mt.__index) end
  return out
end

-- complete(line, start) -> candidates for line:sub(start + 1), the word before the cursor
-- (start counts the bytes before it). Inside a string the whole string so far is completed
-- (readline splits words at "/" and "-"), and each candidate is cut back to the word.
function repl.complete(line, start)
  local word = line:sub(start + 1)
  local q = open_quote(line:sub(1, start))
  local out
  if q then
    local before = line:sub(q + 1, start)
    out = {}
    for _, c in ipairs(string_candidates(before .. word)) do out[#out + 1] = c:sub(#before + 1) end
  else
    out = field_candidates(word)
  end
  table.sort(out)
  return out
end

repl.HELP = [[
Type Lua; expressions print their value. The lmp API is the global `lmp`:
  m = lmp.load_config("path/to/config.json")     -- or lmp.load_model("models/gpt2.json")
  r = lmp.analyze(m, { batch_size = 1, seq_len = 2048 })
  r.totals.flops, r.totals.params, r.footprint.kv_cache
  lmp.compute_flops("torch.nn.modules.linear.Linear", { N = 8, in_features = 512, out_features = 512, bias = true })
help() lists the functions, help(lmp.analyze) shows one. Tab completes globals, table
fields (lmp.comp<Tab>), and file and class names inside quotes (lmp.load("models/<Tab>).
Ctrl-C clears the line or stops a long computation; Ctrl-D (or :quit) leaves.
docs/lua-api.md has the whole API.
:help    this text
:quit    leave the REPL]]

-- command(line) -> true to quit
function repl.command(line)
  local cmd = line:match("^:(%a+)")
  if cmd == "quit" or cmd == "q" or cmd == "exit" then return true end
  if cmd == "help" or cmd == "h" then print(repl.HELP) return false end
  print(("unknown command %s (:help, :quit)"):format(line))
  return false
end

return repl
