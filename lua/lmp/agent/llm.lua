-- LLM clients over libcurl: the Anthropic Messages API and OpenAI-compatible chat
-- completions (llama.cpp, vLLM, Ollama, ...). Retries with backoff on 429, 5xx and network
-- errors; 400 and 401 fail at once with the API's own message. The API key goes only into
-- the request header: it is never part of an error message or a log line. Every answered
-- call is logged with its tokens (the reply's `usage`) and estimated cost, and added to
-- llm.spent, the process's running total.
local core = require "lmp.core"
local util = require "lmp.util"
local env = util.env
local fail = util.fail
local json = require "lmp.json"

local llm = {}

llm.DEFAULT_MODELS = { anthropic = "claude-sonnet-4-5", openai = "gpt-4o-mini" }

-- Estimated prices, USD per million tokens { input, output }, standard (not batch, not
-- cached) rates as listed in 2025-11 by https://docs.anthropic.com/en/docs/about-claude/pricing
-- and https://openai.com/api/pricing. An estimate only: LMP_LLM_PRICE_IN / LMP_LLM_PRICE_OUT
-- (USD per million tokens) override them; a model not listed has no cost. A dated name
-- (claude-sonnet-4-5-20250929) takes its family's price.
llm.PRICES = {
  ["claude-sonnet-4-5"] = { 3, 15 }, ["claude-sonnet-4"] = { 3, 15 }, ["claude-haiku-4-5"] = { 1, 5 },
  ["claude-opus-4-1"] = { 15, 75 }, ["claude-opus-4"] = { 15, 75 }, ["claude-3-5-haiku"] = { 0.8, 4 },
  ["gpt-4o-mini"] = { 0.15, 0.6 }, ["gpt-4o"] = { 2.5, 10 }, ["gpt-4.1"] = { 2, 8 }, ["gpt-4.1-mini"] = { 0.4, 1.6 },
}

local function price_env(name)
  local v = env(name)
  if not v then return nil end
  local n = tonumber(v)
  if not n or n < 0 or n ~= n or n == math.huge then
    fail(("%s must be a price in USD per million tokens, got '%s'"):format(name, v))
  end
  return n
end

-- price(model) -> USD per million input tokens, per million output tokens (nil when unknown)
function llm.price(model)
  local best
  for name, p in pairs(llm.PRICES) do
    local rest = model:sub(#name + 1)
    local dated = rest:match("^%-%d%d%d%d%d%d%d%d$") or rest:match("^%-%d%d%d%d%-%d%d%-%d%d$")
    if model:sub(1, #name) == name and (rest == "" or dated) then best = p end
  end
  local p = best or {}
  return price_env("LMP_LLM_PRICE_IN") or p[1], price_env("LMP_LLM_PRICE_OUT") or p[2]
end

-- cost(model, tokens_in, tokens_out) -> estimated USD, or nil when a price is unknown
function llm.cost(model, tokens_in, tokens_out)
  local pin, pout = llm.price(model)
  if not (pin and pout and tokens_in and tokens_out) then return nil end
  return (tokens_in * pin + tokens_out * pout) / 1e6
end

-- what this process has spent: calls answered, tokens, USD (unpriced: calls without a cost)
llm.spent = { calls = 0, tokens_in = 0, tokens_out = 0, usd = 0, unpriced = 0 }

-- LLM calls one run may make, at most: `analyze --generate` over a model with many unknown
-- classes would otherwise make a paid call per class and round. --max-llm-calls or
-- LMP_LLM_MAX_CALLS raises it; past it llm.complete raises, and analyze lists the classes
-- left with their `lmp generate` commands.
llm.MAX_CALLS = 10
llm.calls_made = 0

local function usd(v) return v and ("$%.6f"):format(v) or "cost unknown" end

-- total_line() -> "N calls, X tokens in, Y tokens out, $Z" for llm.spent, or nil before any call
function llm.total_line()
  local s = llm.spent
  if s.calls == 0 then return nil end
  return ("%d call%s, %d tokens in, %d tokens out, %s"):format(s.calls, s.calls == 1 and "" or "s",
    s.tokens_in, s.tokens_out, usd(s.unpriced == 0 and s.usd or nil))
end

-- the usage figures of a reply: Anthropic input_tokens/output_tokens, OpenAI
-- prompt_tokens/completion_tokens (nil when the server does not report them)
local function usage_of(c, decoded)
  local u = type(decoded) == "table" and type(decoded.usage) == "table" and decoded.usage or {}
  local tin, tout = u.input_tokens, u.output_tokens
  if c.provider == "openai" then tin, tout = u.prompt_tokens, u.completion_tokens end
  if math.type(tin) == "integer" and math.type(tout) == "integer" then return tin, tout end
end

local function account(c, decoded)
  local tin, tout = usage_of(c, decoded)
  local s = llm.spent
  s.calls = s.calls + 1
  local cost = llm.cost(c.model, tin, tout)
  if cost then s.usd = s.usd + cost else s.unpriced = s.unpriced + 1 end
  if tin then s.tokens_in, s.tokens_out = s.tokens_in + tin, s.tokens_out + tout end
  local tokens = tin and ("%d tokens in, %d tokens out"):format(tin, tout) or "tokens not reported"
  local why = ""
  if not cost and tin then why = (" (no price for %s: set LMP_LLM_PRICE_IN and LMP_LLM_PRICE_OUT)"):format(c.model) end
  c.log(("LLM call %d: %s, %s, %s%s"):format(s.calls, c.model, tokens, usd(cost), why))
end

-- config(opts) -> { provider, base_url, model, key, timeout_ms, retries } from options and
-- the environment, or nil and the reason no provider is configured.
--   anthropic: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (https://api.anthropic.com), LMP_LLM_MODEL
--   openai:    OPENAI_BASE_URL (required), OPENAI_API_KEY (optional for local servers)
-- opts.log: function(message) for the per-call and retry lines (default: none)
function llm.config(opts)
  opts = opts or {}
  local provider = opts.provider or env("LMP_LLM_PROVIDER")
  if not provider then
    if env("ANTHROPIC_API_KEY") then provider = "anthropic"
    elseif env("OPENAI_BASE_URL") or env("OPENAI_API_KEY") then provider = "openai"
    else return nil, "no LLM configured: set ANTHROPIC_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible server" end
  end
  local c = { provider = provider, model = opts.model or env("LMP_LLM_MODEL") or llm.DEFAULT_MODELS[provider],
              timeout_ms = opts.timeout_ms or util.env_int("LMP_LLM_TIMEOUT_MS", 120000),
              retries = opts.retries or util.env_int("LMP_LLM_RETRIES", 4),
              backoff_ms = util.env_int("LMP_LLM_BACKOFF_MS", 1000),
              log = opts.log or function () end,
              max_calls = opts.max_calls or util.env_int("LMP_LLM_MAX_CALLS", llm.MAX_CALLS) }
  if provider == "anthropic" then
    c.key = env("ANTHROPIC_API_KEY")
    if not c.key then return nil, "provider anthropic needs ANTHROPIC_API_KEY" end
    c.base_url = (env("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"):gsub("/+$", "")
  elseif provider == "openai" then
    c.key = env("OPENAI_API_KEY")
    c.base_url = (env("OPENAI_BASE_URL") or "https://api.openai.com/v1"):gsub("/+$", "")
  else
    fail(("unknown LLM provider '%s' (anthropic or openai)"):format(provider))
  end
  return c
end

local function request_for(c, system, user, max_tokens)
  if c.provider == "anthropic" then
    return {
      url = c.base_url .. "/v1/messages",
      headers = { "content-type: application/json", "anthropic-version: 2023-06-01", "x-api-key: " .. c.key },
      body = json.encode({ model = c.model, max_tokens = max_tokens, system = system,
                           messages = { { role = "user", content = user } } }),
    }
  end
  local headers = { "content-type: application/json" }
  if c.key then headers[#headers + 1] = "Authorization: Bearer " .. c.key end
  return {
    url = c.base_url .. "/chat/completions",
    headers = headers,
    body = json.encode({ model = c.model, max_tokens = max_tokens, temperature = 0,
                         messages = { { role = "system", content = system }, { role = "user", content = user } } }),
  }
end

-- the text of a reply, or nil and why not
local function text_of(c, decoded)
  if type(decoded) ~= "table" then return nil, "the reply is not a JSON object" end
  if c.provider == "anthropic" then
    local parts = {}
    for _, block in ipairs(type(decoded.content) == "table" and decoded.content or {}) do
      if type(block) == "table" and block.type == "text" and type(block.text) == "string" then parts[#parts + 1] = block.text end
    end
    if #parts == 0 then return nil, "the reply has no text content" end
    return table.concat(parts)
  end
  local choice = type(decoded.choices) == "table" and decoded.choices[1]
  local content = type(choice) == "table" and type(choice.message) == "table" and choice.message.content
  if type(content) ~= "string" then return nil, "the reply has no choices[1].message.content" end
  return content
end

-- a server's text in an error message: at most 200 bytes, control characters as spaces, so
-- that the error stays one line and a hostile server's terminal escapes are not printed
local function shown(s) return (s:sub(1, 200):gsub("%c", " ")) end

local function api_message(body)
  local ok, decoded = pcall(core.json_decode, body)
  if ok and type(decoded) == "table" then
    local e = decoded.error
    if type(e) == "table" and type(e.message) == "string" then return shown(e.message) end
    if type(e) == "string" then return shown(e) end
  end
  return shown(body or "")
end

-- complete(c, system, user [, max_tokens]) -> reply text; raises a clear lmp error otherwise
function llm.complete(c, system, user, max_tokens)
  if llm.calls_made >= c.max_calls then
    fail(("stopped at the limit of %d LLM call%s per run (--max-llm-calls N or LMP_LLM_MAX_CALLS raises it)")
      :format(c.max_calls, c.max_calls == 1 and "" or "s"))
  end
  llm.calls_made = llm.calls_made + 1
  local req = request_for(c, system, user, max_tokens or 8192)
  req.timeout_ms = c.timeout_ms
  req.max_bytes = util.env_int("LMP_HTTP_MAX_BYTES", 8 << 20)
  local last
  for attempt = 0, c.retries do
    if attempt > 0 then
      local wait = last.wait or (c.backoff_ms * (1 << (attempt - 1)))
      c.log(("%s: %s; retrying in %g s (attempt %d of %d)"):format(c.provider, last.msg, wait / 1000, attempt + 1, c.retries + 1))
      core.sleep_ms(wait)
    end
    local resp, err = core.http_request(req)
    if not resp then
      last = { msg = err }                           -- network error or timeout: retry
    elseif resp.status == 200 then
      local ok, decoded = pcall(core.json_decode, resp.body, c.provider .. " reply")
      if not ok then fail(("%s: the reply is not JSON: %s"):format(c.provider, tostring(decoded))) end
      account(c, decoded)
      local text, why = text_of(c, decoded)
      if not text then fail(("%s: %s"):format(c.provider, why)) end
      return text
    elseif resp.status == 429 or resp.status >= 500 then
      local retry_after = math.tointeger(tonumber(resp.headers["retry-after"] or ""))
      last = { msg = ("HTTP %d: %s"):format(resp.status, api_message(resp.body)),
               wait = retry_after and math.min(retry_after * 1000, 60000) or nil }
    elseif resp.status >= 300 and resp.status < 400 then
      -- never followed: the key and the prompt would go on to wherever it points
      fail(("%s at %s answered HTTP %d, a redirect to %s; lmp does not follow redirects for LLM requests (set the base URL to the final address)")
        :format(c.provider, c.base_url, resp.status, shown(resp.headers.location or "nowhere")))
    elseif resp.status == 401 or resp.status == 403 then
      fail(("%s at %s refused the API key (HTTP %d: %s)"):format(c.provider, c.base_url, resp.status, api_message(resp.body)))
    else
      fail(("%s at %s answered HTTP %d: %s"):format(c.provider, c.base_url, resp.status, api_message(resp.body)))
    end
  end
  fail(("%s at %s: giving up after %d attempts: %s"):format(c.provider, c.base_url, c.retries + 1, last.msg))
end

return llm
