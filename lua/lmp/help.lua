-- help() in the REPL: each documented function's signature and first paragraph, read from
-- docs/lua-api.md itself, so the guide is the one source (edit the guide to change help).
local help = {}

-- the guide's `### lmp.*` / `### result:*` headings and the first paragraph under each, in
-- order: { sig =, text = } (the paragraph's lines joined)
function help.parse(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  local out, fenced = {}, false
  for i, line in ipairs(lines) do
    if line:match("^```") then fenced = not fenced end
    local sig = not fenced and line:match("^### (.*)$")
    if sig and (sig:match("^lmp%.") or sig:match("^result:")) then
      local j, para = i + 1, {}
      while lines[j] == "" do j = j + 1 end
      while lines[j] and lines[j] ~= "" and not lines[j]:match("^```") and not lines[j]:match("^#") do
        para[#para + 1] = lines[j]
        j = j + 1
      end
      out[#out + 1] = { sig = sig, text = table.concat(para, " ") }
    end
  end
  return out
end

-- help.ENTRIES: read from docs/lua-api.md in lmp's data (the copy built into the binary
-- when there is no data folder) the first time help is asked for
setmetatable(help, { __index = function (t, k)
  if k ~= "ENTRIES" then return nil end
  local ok, text = pcall(require("lmp.core").read_file, require("lmp.paths").home .. "/docs/lua-api.md")
  rawset(t, "ENTRIES", ok and help.parse(text) or {})
  return rawget(t, "ENTRIES")
end })

-- "lmp.compute_flops / compute_matmul_flops / compute_params (name, params)" ->
-- { "lmp.compute_flops", "lmp.compute_matmul_flops", "lmp.compute_params" }
local function names_of(sig)
  local head = sig:match("^([^(]*)"):gsub("%s+$", "")
  local out = {}
  for name in head:gmatch("[^/%s]+") do
    if not name:find("[.:]") then name = "lmp." .. name end
    out[#out + 1] = name
  end
  return out
end

-- the value a name stands for: lmp.x.y from the globals, result:m a method of lmp.Result
local function value_of(name)
  local method = name:match("^result:(.+)$")
  if method then return require("lmp.result").Result[method] end
  local v = _G
  for part in name:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

-- the entry for a function value or a name ("lmp.analyze", "analyze", "result:find")
function help.find(x)
  for _, e in ipairs(help.ENTRIES) do
    for _, name in ipairs(names_of(e.sig)) do
      if (type(x) == "function" and value_of(name) == x) or x == name or
         (type(x) == "string" and "lmp." .. x == name) then return e end
    end
  end
end

-- one paragraph at `width` columns; [text](link) shows as text
local function wrap(text, width)
  text = text:gsub("%[([^%]]*)%]%([^)]*%)", "%1")
  local lines, line = {}, ""
  for word in text:gmatch("%S+") do
    if line ~= "" and #line + 1 + #word > width then
      lines[#lines + 1] = line
      line = word
    else
      line = line == "" and word or (line .. " " .. word)
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- help() lists the functions; help(f) or help("name") prints one. The API is the global
-- lmp, as the names of the guide are (the REPL and scripts have it)
function help.help(x)
  local api = value_of("lmp") or {}
  if x == nil or x == api then
    print("Functions (help(lmp.analyze) for one; docs/lua-api.md has examples):")
    for _, e in ipairs(help.ENTRIES) do print("  " .. e.sig) end
    local other = {}
    for k, v in pairs(api) do
      if type(v) == "function" and not help.find(v) then other[#other + 1] = "lmp." .. k end
    end
    table.sort(other)
    if #other > 0 then print("Without help here (see docs/lua-api.md): " .. table.concat(other, ", ")) end
    return
  end
  local e = help.find(x)
  if e then
    print(e.sig .. "\n\n" .. wrap(e.text, 78))
  else
    print(("no help for %s: help() lists the documented functions"):format(
      type(x) == "string" and x or type(x)))
  end
end

return help
