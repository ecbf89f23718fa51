-- JSON output written by hand so that integers stay exact (lua-cjson would print
-- 123456789012345 as 1.2345678901234e+14). Decoding is lmp.core.json_decode (C).
local json = {}

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

-- s with each byte that is not part of valid UTF-8 replaced by U+FFFD (a layer or class
-- name from a model file may hold any bytes; JSON text must be UTF-8)
function json.utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local _, bad = utf8.len(s, i)
    if not bad then out[#out + 1] = s:sub(i) break end
    out[#out + 1] = s:sub(i, bad - 1) .. "\u{FFFD}"
    i = bad + 1
  end
  return table.concat(out)
end

function json.string(s)
  s = json.utf8(s)
  return '"' .. s:gsub('[%c"\\]', function (c) return ESCAPES[c] or ("\\u%04x"):format(c:byte()) end) .. '"'
end

-- keys a table is written with: `order` first (those present), then the rest sorted
local function keys_of(t, order)
  local keys, seen = {}, {}
  for _, k in ipairs(order or {}) do
    if t[k] ~= nil then keys[#keys + 1] = k; seen[k] = true end
  end
  local rest = {}
  for k in pairs(t) do
    if not seen[k] then rest[#rest + 1] = tostring(k) end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys
end

-- encode(value, opts) -> text
--   opts.indent      pretty-print with this many spaces per level (default: compact)
--   opts.order       keys written first, in this order, in every object
--   opts.arrays      set of keys whose empty table is written [] rather than {}
--   opts.exact       set of keys whose string value of digits is written as a bare integer
function json.encode(value, opts)
  opts = opts or {}
  local out = {}
  local function emit(v, key, depth)
    local t = type(v)
    if t == "table" then
      local nl = opts.indent and ("\n" .. string.rep(" ", opts.indent * (depth + 1))) or ""
      local close_nl = opts.indent and ("\n" .. string.rep(" ", opts.indent * depth)) or ""
      local is_array = #v > 0 or (next(v) == nil and opts.arrays and opts.arrays[key])
      if is_array then
        out[#out + 1] = "["
        for i, item in ipairs(v) do
          out[#out + 1] = (i > 1 and "," or "") .. nl
          emit(item, nil, depth + 1)
        end
        out[#out + 1] = (#v > 0 and close_nl or "") .. "]"
      else
        out[#out + 1] = "{"
        local keys = keys_of(v, opts.order)
        for i, k in ipairs(keys) do
          out[#out + 1] = (i > 1 and "," or "") .. nl .. json.string(k) .. (opts.indent and ": " or ":")
          emit(v[k], k, depth + 1)
        end
        out[#out + 1] = (#keys > 0 and close_nl or "") .. "}"
      end
    elseif t == "string" then
      if key and opts.exact and opts.exact[key] and v:match("^%-?%d+$") then out[#out + 1] = v
      else out[#out + 1] = json.string(v) end
    elseif t == "number" then
      if math.type(v) == "integer" then out[#out + 1] = ("%d"):format(v)
      elseif v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
      else
        local s = ("%.17g"):format(v)
        -- shortest form that reads back the same (1e-05, not 1.0000000000000001e-05)
        for digits = 6, 16 do
          local short = ("%." .. digits .. "g"):format(v)
          if tonumber(short) == v then s = short break end
        end
        out[#out + 1] = s
      end
    elseif t == "boolean" then
      out[#out + 1] = tostring(v)
    else -- nil and the light userdata lmp.null
      out[#out + 1] = "null"
    end
  end
  emit(value, nil, 0)
  return table.concat(out)
end

-- lmp.core.json_decode turns JSON null into this light userdata
json.null = require("lmp.core").null

return json
