-- LLM clients over libcurl: the Anthropic Messages API and OpenAI-compatible chat
-- completions (llama.cpp, vLLM, Ollama, ...). Retries with backoff on 429, 5xx and network
-- errors; 400 and 401 fail at once with the API's own message. The API key goes only into
-- the request header: it is never part of an error message or a log line.
local core = require "lmp.core"
local json = require "lmp.json"

local llm = {}

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

local function fail(msg) core.error(core.EXIT.USAGE, msg) end

llm.DEFAULT_MODELS = { anthropic = "claude-sonnet-4-5", openai = "gpt-4o-mini" }

-- config(opts) -> { provider, base_url, model, key, timeout_ms, retries } from options and
-- the environment, or nil and the reason no provider is configured.
--   anthropic: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (https://api.anthropic.com), LMP_LLM_MODEL
--   openai:    OPENAI_BASE_URL (required), OPENAI_API_KEY (optional for local servers)
function llm.config(opts)
  opts = opts or {}
  local provider = opts.provider or env("LMP_LLM_PROVIDER")
  if not provider then
    if env("ANTHROPIC_API_KEY") then provider = "anthropic"
    elseif env("OPENAI_BASE_URL") or env("OPENAI_API_KEY") then provider = "openai"
    else return nil, "no LLM configured: set ANTHROPIC_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible server" end
  end
  local c = { provider = provider, model = opts.model or env("LMP_LLM_MODEL") or llm.DEFAULT_MODELS[provider],
              timeout_ms = opts.timeout_ms or math.tointeger(tonumber(env("LMP_LLM_TIMEOUT_MS") or "")) or 120000,
              retries = opts.retries or math.tointeger(tonumber(env("LMP_LLM_RETRIES") or "")) or 4,
              backoff_ms = math.tointeger(tonumber(env("LMP_LLM_BACKOFF_MS") or "")) or 1000 }
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

local function api_message(body)
  local ok, decoded = pcall(core.json_decode, body)
  if ok and type(decoded) == "table" then
    local e = decoded.error
    if type(e) == "table" and type(e.message) == "string" then return e.message end
    if type(e) == "string" then return e end
  end
  return (body or ""):sub(1, 200)
end

-- complete(c, system, user [, max_tokens]) -> reply text; raises a clear lmp error otherwise
function llm.complete(c, system, user, max_tokens)
  local req = request_for(c, system, user, max_tokens or 8192)
  req.timeout_ms = c.timeout_ms
  req.max_bytes = math.tointeger(tonumber(env("LMP_HTTP_MAX_BYTES") or "")) or (8 << 20)
  local last
  for attempt = 0, c.retries do
    if attempt > 0 then core.sleep_ms(last.wait or (c.backoff_ms * (1 << (attempt - 1)))) end
    local resp, err = core.http_request(req)
    if not resp then
      last = { msg = err }                           -- network error or timeout: retry
    elseif resp.status == 200 then
      local ok, decoded = pcall(core.json_decode, resp.body, c.provider .. " reply")
      if not ok then fail(("%s: the reply is not JSON: %s"):format(c.provider, tostring(decoded))) end
      local text, why = text_of(c, decoded)
      if not text then fail(("%s: %s"):format(c.provider, why)) end
      return text
    elseif resp.status == 429 or resp.status >= 500 then
      local retry_after = math.tointeger(tonumber(resp.headers["retry-after"] or ""))
      last = { msg = ("HTTP %d: %s"):format(resp.status, api_message(resp.body)),
               wait = retry_after and math.min(retry_after * 1000, 60000) or nil }
    elseif resp.status == 401 or resp.status == 403 then
      fail(("%s at %s refused the API key (HTTP %d: %s)"):format(c.provider, c.base_url, resp.status, api_message(resp.body)))
    else
      fail(("%s at %s answered HTTP %d: %s"):format(c.provider, c.base_url, resp.status, api_message(resp.body)))
    end
  end
  fail(("%s at %s: giving up after %d attempts: %s"):format(c.provider, c.base_url, c.retries + 1, last.msg))
end

return llm
