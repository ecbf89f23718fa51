-- lua5.4 tests/fuzz/seeds.lua: writes the seed corpora of fuzz_reply and fuzz_calc
-- (tests/fuzz/corpus/reply, tests/fuzz/corpus/calc) from the repository's calculators,
-- fixtures and specs. Needs lua-cjson. Run from the repository root; regress-* files (the
-- inputs of findings) are kept as they are.
local cjson = require "cjson"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end
local function lines(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- the calculator attacks of spec/security/sandbox_cpu_spec.lua: { "what", "flops body", seconds }
local attacks = {}
for l in read("spec/security/sandbox_cpu_spec.lua"):gmatch("[^\n]+") do
  local body = l:match('^%s*{ "[^"]*", "(.-)", %d+ },$')
  if body then attacks[#attacks + 1] = body end
end
local function attack_calc(body, top)
  return (top or "") .. "\nreturn {\n  full_class_name = 'spec.Attack',\n" ..
    "  required_parameters = function () return { N = 'int' } end,\n" ..
    "  flops = function (p) " .. body .. "\n return 0 end,\n" ..
    "  matmul_flops = function (p) return 0 end,\n  params = function (p) return 0 end,\n" ..
    "  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,\n}\n"
end

-- calc: the agent fixture's calculator, the attacks in flops() and at load time (the
-- bundled calculators and the hostile fixtures are read from modules_lua/ and
-- spec/fixtures/modules/ themselves: cmake/fuzz.cmake names them as seed folders)
local C = "tests/fuzz/corpus/calc/"
for _, path in ipairs(lines("ls spec/fixtures/agent/*.lua")) do
  write(C .. path:gsub("/", "_"), read(path))
end
for i, body in ipairs(attacks) do
  write(C .. ("attack-%02d.lua"):format(i), attack_calc(body))
  write(C .. ("attack-load-%02d.lua"):format(i), attack_calc("", body))
end
-- a calculator that keeps memory between calls (spec/security/sandbox_memory_spec.lua)
write(C .. "keeps-global.lua", attack_calc("hoard = hoard or {} hoard[#hoard + 1] = ('x'):rep(1 << 18)"))
write(C .. "samples-many.lua", attack_calc("", "") :gsub("flops =",
  "sample_parameters = function () local t = {} for i = 1, 400 do t[i] = { N = i } end return t end,\n  flops =", 1))
write(C .. "same-as.lua", "return { full_class_name = 'a.B', same_as = 'torch.nn.modules.linear.Linear' }\n")
write(C .. "spec-kinds.lua", [[
return {
  full_class_name = 'spec.Kinds',
  required_parameters = function () return { n = { type = 'posint', max = 1 << 40 }, b = 'bool',
    mode = { type = 'string', values = { 'a', 'b' } }, x = 'number', d = { type = 'int', default = 4 } } end,
  sample_parameters = function () return { { n = 1, b = true, mode = 'a', x = 0.5 }, { n = 3, b = false, mode = 'b', x = 2, d = 0 } } end,
  flops = function (p) return kernels.conv_out(p.n, 1, 1, p.d, 1) end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return kernels.mul(p.n, p.d) end,
  memory = function (p) local w = kernels.bytes(p.n * p.d, 16) return { reads = w, writes = 0, intermediates = 0, weights = w } end,
  state = function (p) return p.b and 1 or 0 end,
  backward = function (p) return { flops = kernels.add(p.n, p.n), matmul_flops = 0 } end,
}
]])

-- reply: the fake servers' shapes of spec/agent/agent_spec.lua
local R = "tests/fuzz/corpus/reply/"
local entry, calc = read("spec/fixtures/agent/mish.json"), read("spec/fixtures/agent/mish.lua")
local function reply_text(e, c) return "Here is the analysis.\n\n```json\n" .. e .. "\n```\n\n```lua\n" .. c .. "```\n" end
local function anthropic(text, usage)
  return cjson.encode({ id = "msg_1", type = "message", role = "assistant", model = "claude-test",
    content = { { type = "text", text = text } }, stop_reason = "end_turn",
    usage = usage or { input_tokens = 10, output_tokens = 20 } })
end
local function openai(text, usage)
  return cjson.encode({ id = "chatcmpl-1", object = "chat.completion", model = "local-model",
    choices = { { index = 0, message = { role = "assistant", content = text }, finish_reason = "stop" } },
    usage = usage or { prompt_tokens = 1200, completion_tokens = 800, total_tokens = 2000 } })
end
local texts = {
  good = reply_text(entry, calc),
  crlf = reply_text(entry, calc):gsub("\n", "\r\n"),
  blanks = "```json  \t\n" .. entry .. "\n   ```\n```lua \n" .. calc .. "  ```",
  ["no-json"] = "```lua\n" .. calc .. "```\n",
  ["no-lua"] = "```json\n" .. entry .. "\n```\n",
  unclosed = "```json\n" .. entry .. "\n```\n```lua\n" .. calc,
  ["json-array"] = reply_text("[1, 2]", calc),
  ["json-broken"] = reply_text(entry:sub(1, 200), calc),
  ["params-5"] = reply_text(entry:gsub('%[%s*{ "name": "numel".-%]', "[5]", 1), calc),
  ["params-empty-object"] = reply_text(entry:gsub('%[%s*{ "name": "numel".-%]', "[{}]", 1), calc),
  ["params-string"] = reply_text(entry:gsub('%[%s*{ "name": "numel".-%]', '["numel"]', 1), calc),
  ["wrong-formula"] = reply_text(entry:gsub('"5 %* %${numel}"', '"6 * ${numel}"', 1), calc),
  ["catches-budget"] = reply_text(entry, calc:gsub("flops = function %(p%)",
    "flops = function (p) while true do pcall(function () while true do end end) end", 1)),
  backtracks = reply_text(entry, calc:gsub("flops = function %(p%)", "flops = function (p) local _ = ('a'):rep(30):find(('a*'):rep(40) .. 'b')", 1)),
  ["fence-in-text"] = "Some ```json inline, then:\n```json\n" .. entry .. "\n```\nand ``` again\n```lua\n" .. calc .. "```\n",
}
for name, text in pairs(texts) do
  write(R .. "anthropic-" .. name, "a" .. anthropic(text))
  write(R .. "openai-" .. name, "o" .. openai(text))
end
write(R .. "anthropic-two-blocks", "a" .. cjson.encode({ content = { { type = "thinking", thinking = "hm" },
  { type = "text", text = "```json\n" .. entry .. "\n```\n" }, { type = "text", text = "```lua\n" .. calc .. "```\n" } },
  usage = { input_tokens = 1, output_tokens = 2 } }))
write(R .. "anthropic-no-usage", "a" .. cjson.encode({ content = { { type = "text", text = texts.good } } }))
write(R .. "openai-float-usage", "o" .. openai(texts.good, { prompt_tokens = 1.5, completion_tokens = 2 }))
write(R .. "openai-no-choices", "o" .. cjson.encode({ choices = {} }))
write(R .. "not-json", "a<html>502 Bad Gateway</html>")
-- error answers: the first byte is 2 * (index in STATUSES - 1) + provider (fuzz_reply.c)
local ERRORS = { [16] = 429, [19] = 500, [20] = 503, [22] = 400, [25] = 401, [26] = 403, [29] = 404, [30] = 301, [33] = 307 }
for b, status in pairs(ERRORS) do
  local body = b % 2 == 0 and cjson.encode({ type = "error", error = { type = "overloaded_error", message = "Overloaded" } })
               or cjson.encode({ error = "rate limited\nretry later" })
  write(R .. ("status-%d"):format(status), string.char(b) .. body)
end
-- the raw body as the text (not a provider's JSON): prompt.parse sees it directly
write(R .. "raw-text", "\0" .. texts.good)
