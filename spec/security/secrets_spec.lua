-- Secrets stay home: a redirect from the server lmp asked to another origin (here another
-- port on 127.0.0.1) never carries the LLM API key, the prompt or HF_TOKEN. Two fake servers:
-- the first redirects, the second logs whatever reaches it.
local lmp = require "lmp"
local h = require "spec.helpers"

local FIX = h.fixtures .. "/agent"
local MISH = "torch.nn.modules.activation.Mish"
local SOURCE = FIX .. "/src/torch/nn/modules/activation.py"

-- the environment of an LLM call with nothing inherited from the caller's
local function llm_env(extra)
  local dir = h.tmpdir()
  local env = { HOME = dir, XDG_DATA_HOME = dir .. "/data", ANTHROPIC_API_KEY = "", ANTHROPIC_BASE_URL = "",
                OPENAI_BASE_URL = "", OPENAI_API_KEY = "", LMP_LLM_PROVIDER = "", LMP_LLM_MODEL = "",
                LMP_LLM_BACKOFF_MS = "10", LMP_GENERATE = "" }
  for k, v in pairs(extra) do env[k] = v end
  return env
end

-- a server that logs, and one that redirects `path` to it (status 307 unless given)
local function redirect_pair(method, path, status)
  local target = h.fake_server({ { method = method, path = path, body = "{}" } })
  local first = h.fake_server({ { method = method, path = path, status = status or 307,
                                  headers = { "Location: " .. target.url .. path } } })
  return first, target
end

describe("secrets", function ()
  for _, case in ipairs({
    { "anthropic", "/v1/messages", "x-api-key: sk-ant-SECRET", function (url)
        return { ANTHROPIC_API_KEY = "sk-ant-SECRET", ANTHROPIC_BASE_URL = url } end },
    { "openai", "/v1/chat/completions", "Authorization: Bearer sk-openai-SECRET", function (url)
        return { OPENAI_BASE_URL = url .. "/v1", OPENAI_API_KEY = "sk-openai-SECRET" } end },
  }) do
    it(case[1] .. ": a redirect is an error naming its Location; the target never sees the key or the prompt", function ()
      for _, status in ipairs({ 301, 307, 308 }) do
        local first, target = redirect_pair("POST", case[2], status)
        local _, err, code = h.run_env(llm_env(case[4](first.url)), "generate", "--full-class-name", MISH,
          "--source", SOURCE)
        first.stop()
        target.stop()
        assert.are.equal(2, code, err)
        assert.matches(("answered HTTP %d, a redirect to %s%s; lmp does not follow redirects"):format(status,
          target.url, case[2]), err, 1, true)
        assert.is_nil(err:find("SECRET", 1, true))
        assert.is_nil(err:find("traceback", 1, true))
        assert.matches(case[3], first.requests(), 1, true)  -- the server asked got the key ...
        assert.are.equal("", target.requests())             -- ... the other one nothing at all
      end
    end)
  end

  local ID = "spec-org/Llama-2-7b-copy" -- not a bundled model, so it is downloaded
  local CONFIG_PATH = "/" .. ID .. "/resolve/main/config.json"
  local CONFIG = lmp.core.read_file(h.CONFIGS .. "meta-llama--Llama-2-7b-hf.json")
  local function hub_env(endpoint)
    return { HF_HOME = h.tmpdir(), LMP_CACHE = h.tmpdir(), HF_HUB_CACHE = "", HF_HUB_OFFLINE = "",
             HF_TOKEN = "hf_SECRETtoken", HF_ENDPOINT = endpoint }
  end

  it("HF_TOKEN: the Hub download follows a redirect to another origin without the token", function ()
    local target = h.fake_server({ { path = CONFIG_PATH, body = CONFIG } })
    local first = h.fake_server({ { path = CONFIG_PATH, status = 302, headers = { "Location: " .. target.url .. CONFIG_PATH } } })
    local out, err, code = h.run_env(hub_env(first.url), "analyze", "--model-id", ID, "--format", "json", "--depth", "0")
    first.stop()
    target.stop()
    assert.are.equal(0, code, err)
    assert.are.equal(6738415616, lmp.json_decode(out).totals.params) -- the published count
    assert.matches("Authorization: Bearer hf_SECRETtoken", first.requests(), 1, true)
    assert.matches("GET " .. CONFIG_PATH, target.requests(), 1, true)
    assert.is_nil(target.requests():find("SECRET", 1, true))
    assert.is_nil(target.requests():lower():find("authorization", 1, true))
  end)

  it("HF_TOKEN: a redirect within the Hub's origin (a renamed repository) keeps the token", function ()
    local renamed = "/spec-org/Llama-2-7b-renamed/resolve/main/config.json"
    local hub = h.fake_server({ { path = CONFIG_PATH, status = 307, headers = { "Location: " .. renamed } },
                                { path = renamed, body = CONFIG } })
    local _, err, code = h.run_env(hub_env(hub.url), "analyze", "--model-id", ID, "--depth", "0")
    hub.stop()
    assert.are.equal(0, code, err)
    local _, tokens = hub.requests():gsub("Authorization: Bearer hf_SECRETtoken", "")
    assert.are.equal(2, tokens)
  end)

  it("HF_TOKEN: a redirect loop stops after 5 hops with a one-line error", function ()
    local hub = h.fake_server({ { path = CONFIG_PATH, status = 302, headers = { "Location: " .. CONFIG_PATH } } })
    local _, err, code = h.run_env(hub_env(hub.url), "analyze", "--model-id", ID)
    hub.stop()
    assert.are.equal(2, code)
    assert.matches("answered HTTP 302 for " .. hub.url .. CONFIG_PATH .. ", a redirect to " .. CONFIG_PATH, err, 1, true)
    assert.are.equal(6, select(2, hub.requests():gsub("GET " .. CONFIG_PATH:gsub("%p", "%%%0"), "")))
  end)
end)
