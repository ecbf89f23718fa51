-- --model-id: the config from the local Hugging Face cache, lmp's cache, or a (fake) Hub on
-- 127.0.0.1 speaking real HTTP; the clear errors for gated, missing and unreachable models.
local lmp = require "lmp"
local h = require "spec.helpers"

local LLAMA_CONFIG = lmp.core.read_file(h.CONFIGS .. "meta-llama--Llama-2-7b-hf.json")
-- not a bundled model (those are found offline, before any cache or the Hub)
local ID = "spec-org/Llama-2-7b-copy"
local CONFIG_PATH = "/" .. ID .. "/resolve/main/config.json"

-- a fresh, empty Hugging Face cache and lmp cache for each run
local function clean_env(extra)
  local env = { HF_HOME = h.tmpdir(), LMP_CACHE = h.tmpdir(), HF_HUB_CACHE = "", HF_TOKEN = "", HF_TOKEN_PATH = "", HUGGING_FACE_HUB_TOKEN = "", HF_HUB_OFFLINE = "" }
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

describe("--model-id", function ()
  it("downloads config.json from the Hub, analyses it, and caches it", function ()
    local hub = h.fake_server({ { path = CONFIG_PATH, body = LLAMA_CONFIG, headers = { "Content-Type: application/json" } } })
    local env = clean_env({ HF_ENDPOINT = hub.url })
    local out, err, code = h.run_env(env, "analyze", "--model-id", ID, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    assert.are.equal(ID, r.model_id)
    assert.are.equal(6738415616, r.totals.params) -- the published count
    -- the second run is served from lmp's cache: the Hub saw one request
    hub.stop()
    out, err, code = h.run_env(env, "analyze", "--model-id", ID, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(6738415616, lmp.json_decode(out).totals.params)
    local _, requests = hub.requests():gsub("GET " .. CONFIG_PATH:gsub("%p", "%%%0"), "")
    assert.are.equal(1, requests)
    assert.are.equal("file", lmp.core.file_kind(env.LMP_CACHE .. "/hub/spec-org--Llama-2-7b-copy/config.json"))
  end)

  it("reads a model from the local Hugging Face cache with no network", function ()
    local home = h.tmpdir()
    local repo = home .. "/hub/models--spec-org--Llama-2-7b-copy"
    local commit = "8cca527612d856d7d32bd94f8103728d614eb852"
    assert(lmp.core.mkdir_p(repo .. "/refs"))
    assert(lmp.core.mkdir_p(repo .. "/snapshots/" .. commit))
    local f = assert(io.open(repo .. "/refs/main", "w")); f:write(commit); f:close()
    f = assert(io.open(repo .. "/snapshots/" .. commit .. "/config.json", "w")); f:write(LLAMA_CONFIG); f:close()
    local env = clean_env({ HF_HOME = home, HF_HUB_OFFLINE = "1", HF_ENDPOINT = "http://127.0.0.1:9" })
    local out, err, code = h.run_env(env, "analyze", "--model-id", ID, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(6738415616, lmp.json_decode(out).totals.params)
    -- and a snapshot folder works as --config too, naming the model from its path
    out, err, code = h.run("analyze", "--config", repo .. "/snapshots/" .. commit, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(ID, lmp.json_decode(out).model_id)
  end)

  it("says a gated model needs HF_TOKEN, sends the token, and never prints it", function ()
    local hub = h.fake_server({ { path = CONFIG_PATH, status = 401, body = '{"error":"Access to model is restricted"}' } })
    local _, err, code = h.run_env(clean_env({ HF_ENDPOINT = hub.url }), "analyze", "--model-id", ID)
    assert.are.equal(2, code)
    assert.matches(ID .. ": gated or private (HTTP 401): accept its license on the Hub and set HF_TOKEN", err, 1, true)
    local secret = "hf_SECRETtoken123"
    _, err, code = h.run_env(clean_env({ HF_ENDPOINT = hub.url, HF_TOKEN = secret }), "analyze", "--model-id", ID)
    hub.stop()
    assert.are.equal(2, code)
    assert.matches("the Hub refused HF_TOKEN (HTTP 401)", err, 1, true)
    assert.is_nil(err:find(secret, 1, true))
    assert.matches("Authorization: Bearer " .. secret, hub.requests(), 1, true)
  end)

  it("says a missing model is missing", function ()
    local hub = h.fake_server({})
    local _, err, code = h.run_env(clean_env({ HF_ENDPOINT = hub.url }), "analyze", "--model-id", "nobody/nothing")
    hub.stop()
    assert.are.equal(2, code)
    assert.matches("nobody/nothing: no such model on " .. hub.url .. ", or it has no config.json (HTTP 404)", err, 1, true)
  end)

  it("times out on a Hub that does not answer", function ()
    local hub = h.fake_server({ { path = CONFIG_PATH, delay_ms = 3000, body = LLAMA_CONFIG } })
    local t0 = os.time()
    local _, err, code = h.run_env(clean_env({ HF_ENDPOINT = hub.url, LMP_HTTP_TIMEOUT_MS = "300" }),
      "analyze", "--model-id", ID)
    hub.stop()
    assert.are.equal(2, code)
    assert.matches("timed out after 300 ms", err, 1, true)
    assert.is_true(os.time() - t0 <= h.within(2))
  end)

  it("explains being offline, and HF_HUB_OFFLINE", function ()
    local _, err, code = h.run_env(clean_env({ HF_ENDPOINT = "http://127.0.0.1:9" }), "analyze", "--model-id", ID)
    assert.are.equal(2, code)
    assert.matches("cannot download config.json from http://127.0.0.1:9", err, 1, true)
    assert.matches("offline?", err, 1, true)
    _, err, code = h.run_env(clean_env({ HF_HUB_OFFLINE = "1" }), "analyze", "--model-id", ID)
    assert.are.equal(2, code)
    assert.matches("HF_HUB_OFFLINE=1 forbids downloading it", err, 1, true)
  end)

  it("refuses what is not a model id", function ()
    local _, err, code = h.run("analyze", "--model-id", "../../etc/passwd")
    assert.are.equal(2, code)
    assert.matches("is not a Hugging Face model id", err, 1, true)
  end)

  it("refuses a Hub answer that is not JSON", function ()
    local hub = h.fake_server({ { path = CONFIG_PATH, body = "<html>login</html>" } })
    local _, err, code = h.run_env(clean_env({ HF_ENDPOINT = hub.url }), "analyze", "--model-id", ID)
    hub.stop()
    assert.are.equal(2, code)
    assert.matches("the Hub's config.json is not a JSON object", err, 1, true)
  end)

  -- a Hugging Face cache holding `config_text` for `id` at `ref` (commit `commit`)
  local function hf_cache(id, config_text, ref, commit)
    local home = h.tmpdir()
    local repo = home .. "/hub/models--" .. id:gsub("/", "--")
    assert(lmp.core.mkdir_p(repo .. "/refs"))
    assert(lmp.core.mkdir_p(repo .. "/snapshots/" .. commit))
    local f = assert(io.open(repo .. "/refs/" .. ref, "w")); f:write(commit .. "\n"); f:close()
    f = assert(io.open(repo .. "/snapshots/" .. commit .. "/config.json", "w")); f:write(config_text); f:close()
    return home
  end

  -- Llama-2-7B cut to one decoder layer: 6,738,415,616 - 31 * 202,383,360 (a layer:
  -- 4*4096^2 attention + 3*4096*11008 MLP + 2*4096 norms)
  local ONE_LAYER_CONFIG = LLAMA_CONFIG:gsub('"num_hidden_layers": 32', '"num_hidden_layers": 1')
  local ONE_LAYER_PARAMS = 6738415616 - 31 * (4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096)

  it("uses a bundled model before any cache, unless --revision is given", function ()
    assert.are_not.equal(LLAMA_CONFIG, ONE_LAYER_CONFIG)
    local bundled = "meta-llama/Llama-2-7b-hf"
    local home = hf_cache(bundled, ONE_LAYER_CONFIG, "main", "1111111111111111111111111111111111111111")
    local env = clean_env({ HF_HOME = home, HF_HUB_OFFLINE = "1" })
    local out, err, code = h.run_env(env, "analyze", bundled, "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(6738415616, lmp.json_decode(out).totals.params)
    out, err, code = h.run_env(env, "analyze", bundled, "--revision", "main", "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal(ONE_LAYER_PARAMS, lmp.json_decode(out).totals.params)
  end)

  it("takes --revision: refs/REV or a commit in the HF cache, resolve/REV on the Hub, its own lmp cache entry", function ()
    local commit = "2222222222222222222222222222222222222222"
    local env = clean_env({ HF_HOME = hf_cache(ID, ONE_LAYER_CONFIG, "v2", commit), HF_HUB_OFFLINE = "1" })
    for _, rev in ipairs({ "v2", commit }) do
      local out, err, code = h.run_env(env, "analyze", ID, "--revision", rev, "--format", "json", "--depth", "0")
      assert.are.equal(0, code, err)
      assert.are.equal(ONE_LAYER_PARAMS, lmp.json_decode(out).totals.params)
    end
    -- a revision the cache lacks is not served from another snapshot
    local _, err, code = h.run_env(env, "analyze", ID, "--revision", "v3")
    assert.are.equal(2, code)
    assert.matches("HF_HUB_OFFLINE=1 forbids downloading it", err, 1, true)
    -- from the Hub: a "/" in a revision is quoted as huggingface_hub quotes it
    local hub = h.fake_server({
      { path = "/" .. ID .. "/resolve/refs%2Fpr%2F1/config.json", body = ONE_LAYER_CONFIG },
      { path = CONFIG_PATH, body = LLAMA_CONFIG } })
    env = clean_env({ HF_ENDPOINT = hub.url })
    local out
    out, err, code = h.run_env(env, "export", ID, "--revision", "refs/pr/1")
    assert.are.equal(0, code, err)
    assert.are.equal(ONE_LAYER_PARAMS, lmp.analyze(lmp.load_model_string(out), { seq_len = 1 }).totals.params)
    out, err, code = h.run_env(env, "analyze", "--model-id", ID, "--format", "json", "--depth", "0")
    hub.stop()
    assert.are.equal(0, code, err)
    assert.are.equal(6738415616, lmp.json_decode(out).totals.params)
    assert.are.equal("file", lmp.core.file_kind(env.LMP_CACHE .. "/hub/spec-org--Llama-2-7b-copy@refs%2Fpr%2F1/config.json"))
    assert.are.equal("file", lmp.core.file_kind(env.LMP_CACHE .. "/hub/spec-org--Llama-2-7b-copy/config.json"))
    _, err, code = h.run("analyze", ID, "--revision", "../x")
    assert.are.equal(2, code)
    assert.matches("'../x' is not a revision", err, 1, true)
  end)

  it("reads the token huggingface-cli login wrote, as huggingface_hub does; HF_TOKEN wins", function ()
    local home = h.tmpdir()
    local f = assert(io.open(home .. "/token", "w")); f:write("  hf_FROMfile\r\n"); f:close()
    local other = h.write("\thf_FROMtokenpath\n", "")
    local hub = h.fake_server({ { path = CONFIG_PATH, status = 401 }, { path = CONFIG_PATH, status = 401 },
                                { path = CONFIG_PATH, status = 401 } })
    local _, err, code = h.run_env(clean_env({ HF_HOME = home, HF_ENDPOINT = hub.url }), "analyze", ID)
    assert.are.equal(2, code)
    assert.matches("the Hub refused the token in " .. home .. "/token (HTTP 401)", err, 1, true)
    assert.is_nil(err:find("hf_FROMfile", 1, true))
    h.run_env(clean_env({ HF_HOME = home, HF_ENDPOINT = hub.url, HF_TOKEN_PATH = other }), "analyze", ID)
    _, err = h.run_env(clean_env({ HF_HOME = home, HF_ENDPOINT = hub.url, HF_TOKEN = "hf_FROMenv" }), "analyze", ID)
    hub.stop()
    os.remove(other)
    assert.matches("the Hub refused HF_TOKEN (HTTP 401)", err, 1, true)
    local auth = {}
    for token in hub.requests():gmatch("Authorization: Bearer ([^\r\n]*)") do auth[#auth + 1] = token end
    assert.are.same({ "hf_FROMfile", "hf_FROMtokenpath", "hf_FROMenv" }, auth)
  end)
end)
