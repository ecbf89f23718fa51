-- The Hugging Face Hub: a model id's config.json from the local Hugging Face cache (the
-- HF_HUB_CACHE / HF_HOME layout huggingface_hub writes), from lmp's own cache, or downloaded
-- from HF_ENDPOINT (default https://huggingface.co) with the user's token for gated
-- repositories, and then kept in lmp's cache. HF_HUB_OFFLINE=1 forbids the download.
-- Also the bundled models (lmp.home/models), found by the model_id each file carries.
local core = require "lmp.core"
local util = require "lmp.util"
local env = util.env
local fail = util.fail

local hub = {}

-- "org/name" (or an old single-word id such as "gpt2"), as huggingface_hub's validate_repo_id
-- accepts it: letters, digits, "_", "-" and ".", each part beginning and ending with a letter,
-- digit or "_", the name at most 96 characters, no "--" or "..". The caches (the Hugging Face
-- one and lmp's) name a model ORG--NAME, which this makes unambiguous: "a--b/c" and "a/b--c"
-- would both be a--b--c.
local function id_part(p, max) return #p <= max and p:match("^[%w_][%w._-]*$") and p:match("[%w_]$") end
function hub.check_id(id)
  local org, name = tostring(id):match("^([^/]*)/([^/]*)$")
  local ok = type(id) == "string" and not id:find("--", 1, true) and not id:find("..", 1, true)
    and (org and id_part(org, 96) and id_part(name, 96) or id_part(id, 96))
  if not ok then
    fail(("'%s' is not a Hugging Face model id (ORG/NAME of letters, digits, '_', '-', '.'; no '--' or '..')")
      :format(require("lmp.report").visible(tostring(id))))
  end
  return id
end

-- a branch, tag or commit ("main", "v1.0", "refs/pr/1", a 40-hex sha)
function hub.check_revision(rev)
  local ok = type(rev) == "string" and #rev <= 200 and not rev:find("..", 1, true) and rev:match("^[%w][%w._/-]*$")
  if not ok then fail(("'%s' is not a revision (a branch, tag or commit)"):format(tostring(rev))) end
  return rev
end

-- HF_HOME as huggingface_hub computes it
local function hf_home()
  return env("HF_HOME") or ((env("XDG_CACHE_HOME") or ((env("HOME") or ".") .. "/.cache")) .. "/huggingface")
end

function hub.hf_cache_dir()
  return env("HF_HUB_CACHE") or (hf_home() .. "/hub")
end

-- token() -> token, where it came from: as huggingface_hub's get_token reads it, HF_TOKEN
-- (or the older HUGGING_FACE_HUB_TOKEN), else the file HF_TOKEN_PATH (default
-- HF_HOME/token, what `huggingface-cli login` writes); CR, LF and surrounding whitespace
-- stripped, an empty token is none
function hub.token()
  local function clean(t)
    t = t and t:gsub("[\r\n]", ""):match("^%s*(.-)%s*$")
    if t and t ~= "" then return t end
  end
  local t = clean(env("HF_TOKEN") or env("HUGGING_FACE_HUB_TOKEN"))
  if t then return t, "HF_TOKEN" end
  local path = env("HF_TOKEN_PATH") or (hf_home() .. "/token")
  local f = io.open(path)
  if not f then return nil end
  local text, more = f:read(65536, 1) -- a token is short; the path may be a pipe or /dev/zero
  f:close()
  if more then fail(("%s: more than 65536 bytes, too long for a token file"):format(path)) end
  t = clean(text)
  if t then return t, path end
end

function hub.lmp_cache_dir()
  if env("LMP_CACHE") then return env("LMP_CACHE") end
  return (env("XDG_CACHE_HOME") or ((env("HOME") or ".") .. "/.cache")) .. "/lmp"
end

local function read_first_line(path)
  local f = io.open(path)
  if not f then return nil end
  local line = f:read(256) -- a commit id; bounded, as the file may be a pipe or /dev/zero
  line = line and line:match("^[^\n]*")
  f:close()
  return line
end

-- the snapshot config.json of `id` in the Hugging Face cache, or nil. A revision is a ref
-- (refs/REV holds its commit) or a commit (snapshots/REV); without one, refs/main, else
-- any snapshot
function hub.find_in_hf_cache(id, revision)
  local dir = hub.hf_cache_dir() .. "/models--" .. id:gsub("/", "--")
  local commit = read_first_line(dir .. "/refs/" .. (revision or "main"))
  if not commit and revision and revision:match("^%x+$") then commit = revision end
  if commit and commit:match("^[%w]+$") then
    local path = dir .. "/snapshots/" .. commit .. "/config.json"
    if core.file_kind(path) == "file" then return path end
  end
  if revision then return nil end
  for _, snap in ipairs(core.listdir(dir .. "/snapshots") or {}) do
    local path = dir .. "/snapshots/" .. snap .. "/config.json"
    if core.file_kind(path) == "file" then return path end
  end
end

-- lmp's cached copy: hub/ORG--NAME/config.json for main, hub/ORG--NAME@REV/... for another
-- revision ("/" in REV as "%2F", as in its URL: a revision holds no "%", and may hold "--")
local function lmp_cache_path(id, revision)
  local rev = (revision and revision ~= "main") and ("@" .. revision:gsub("/", "%%2F")) or ""
  return hub.lmp_cache_dir() .. "/hub/" .. id:gsub("/", "--") .. rev .. "/config.json"
end

-- ---- the bundled models ----

function hub.bundled_dir() return require("lmp.paths").home .. "/models" end

local bundled_list
-- bundled_models() -> { { id=, file=, path=, classes= }, ... } by file name: the model
-- files shipped in lmp.home/models that carry a model_id
function hub.bundled_models()
  if bundled_list then return bundled_list end
  local dir = hub.bundled_dir()
  bundled_list = {}
  for _, name in ipairs(core.listdir(dir) or {}) do
    local path = dir .. "/" .. name
    local ok, m = pcall(function () return core.json_decode(core.read_file(path), path) end)
    if name:match("%.json$") and ok and type(m) == "table" and type(m.model_id) == "string" then
      local classes, seen = {}, {}
      for _, layer in ipairs(type(m.layers) == "table" and m.layers or {}) do
        local c = type(layer.class) == "string" and layer.class:match("[^.]+$") or "?"
        if not seen[c] then classes[#classes + 1], seen[c] = c, true end
      end
      bundled_list[#bundled_list + 1] = { id = m.model_id, file = "models/" .. name, path = path,
                                          classes = table.concat(classes, "+") }
    end
  end
  return bundled_list
end

-- bundled(id) -> the bundled model whose model_id is `id` (case-insensitive, as the Hub's
-- ids are; an old id without an org, "gpt2", matches "openai-community/gpt2"), or nil
function hub.bundled(id)
  local want = id:lower()
  for _, m in ipairs(hub.bundled_models()) do
    local mid = m.id:lower()
    if mid == want or (not want:find("/", 1, true) and mid:match("/(.*)$") == want) then return m end
  end
end


-- download(id) -> path of the cached config.json
function hub.download(id, revision)
  if env("HF_HUB_OFFLINE") == "1" then
    fail(("%s: not in the Hugging Face cache (%s) or lmp's (%s), and HF_HUB_OFFLINE=1 forbids downloading it")
      :format(id, hub.hf_cache_dir(), hub.lmp_cache_dir()))
  end
  local endpoint = (env("HF_ENDPOINT") or "https://huggingface.co"):gsub("/+$", "")
  -- a revision is one path segment of the URL, as huggingface_hub quotes it (refs%2Fpr%2F1)
  local rev = (revision or "main"):gsub("/", "%%2F")
  local url = ("%s/%s/resolve/%s/config.json"):format(endpoint, id, rev)
  local headers = { "Accept: application/json" }
  local token, token_from = hub.token()
  if token then headers[#headers + 1] = "Authorization: Bearer " .. token end
  local timeout = util.env_int("LMP_HTTP_TIMEOUT_MS", 30000)
  local max_bytes = util.env_int("LMP_HTTP_MAX_BYTES", 4 << 20)
  -- the Hub redirects renamed repositories; HF_TOKEN goes only to HF_ENDPOINT's origin
  local resp, err = core.http_request({ url = url, headers = headers, timeout_ms = timeout, max_bytes = max_bytes,
                                        follow = 5 })
  if not resp then
    fail(("%s: cannot download config.json from %s (%s); offline? Use --config with a local file, or put the model in the Hugging Face cache")
      :format(id, endpoint, err))
  end
  if resp.status == 401 or resp.status == 403 then
    fail(token and ("%s: the Hub refused %s (HTTP %d): check the token and that it has access to this model")
                     :format(id, token_from == "HF_TOKEN" and "HF_TOKEN" or ("the token in " .. token_from), resp.status)
               or ("%s: gated or private (HTTP %d): accept its license on the Hub and set HF_TOKEN (or run " ..
                   "huggingface-cli login)"):format(id, resp.status))
  elseif resp.status == 404 then
    fail(("%s: no such model on %s%s, or it has no config.json (HTTP 404)")
      :format(id, endpoint, revision and (" at revision " .. revision) or ""))
  elseif resp.status >= 300 and resp.status < 400 then
    fail(("%s: the Hub answered HTTP %d for %s, a redirect to %s that lmp did not follow (more than 5 redirects)")
      :format(id, resp.status, resp.url, resp.headers.location or "nowhere"))
  elseif resp.status ~= 200 then
    fail(("%s: the Hub answered HTTP %d for %s"):format(id, resp.status, url))
  end
  local ok, decoded = pcall(core.json_decode, resp.body, url)
  if not ok or type(decoded) ~= "table" then
    fail(("%s: the Hub's config.json is not a JSON object: %s"):format(id, ok and "wrong type" or tostring(decoded)))
  end
  -- kept for next time; written to a temporary file and renamed, so never half-written
  local path = lmp_cache_path(id, revision)
  local cached = core.mkdir_p(path:match("^(.*)/[^/]*$")) and core.write_file_atomic(path, resp.body)
  if not cached then
    -- the cache is not writable: still analyse, from a temporary copy
    path = os.tmpname()
    assert(core.write_file_atomic(path, resp.body))
  end
  return path, "download"
end

-- config_path(id) -> path of a config.json for the model, and where it came from:
-- "hf-cache", "lmp-cache" or "download"
function hub.config_path(id, revision)
  hub.check_id(id)
  if revision then hub.check_revision(revision) end
  local path = hub.find_in_hf_cache(id, revision)
  if path then return path, "hf-cache" end
  path = lmp_cache_path(id, revision)
  if core.file_kind(path) == "file" then return path, "lmp-cache" end
  return hub.download(id, revision)
end

return hub
