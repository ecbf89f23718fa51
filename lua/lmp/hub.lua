-- The Hugging Face Hub: a model id's config.json from the local Hugging Face cache (the
-- HF_HUB_CACHE / HF_HOME layout huggingface_hub writes), from lmp's own cache, or downloaded
-- from HF_ENDPOINT (default https://huggingface.co) with HF_TOKEN for gated repositories,
-- and then kept in lmp's cache. HF_HUB_OFFLINE=1 forbids the download.
local core = require "lmp.core"

local hub = {}

local function fail(msg) core.error(core.EXIT.USAGE, msg) end

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

-- "org/name" (or an old single-word id such as "gpt2")
function hub.check_id(id)
  local ok = type(id) == "string" and #id <= 200 and not id:find("..", 1, true)
    and (id:match("^[%w][%w._-]*/[%w][%w._-]*$") or id:match("^[%w][%w._-]*$"))
  if not ok then fail(("'%s' is not a Hugging Face model id (ORG/NAME)"):format(tostring(id))) end
  return id
end

function hub.hf_cache_dir()
  if env("HF_HUB_CACHE") then return env("HF_HUB_CACHE") end
  if env("HF_HOME") then return env("HF_HOME") .. "/hub" end
  local xdg = env("XDG_CACHE_HOME") or ((env("HOME") or ".") .. "/.cache")
  return xdg .. "/huggingface/hub"
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

-- the snapshot config.json of `id` in the Hugging Face cache, or nil
function hub.find_in_hf_cache(id, revision)
  local dir = hub.hf_cache_dir() .. "/models--" .. id:gsub("/", "--")
  local commit = read_first_line(dir .. "/refs/" .. (revision or "main"))
  if commit and commit:match("^[%w]+$") then
    local path = dir .. "/snapshots/" .. commit .. "/config.json"
    if core.file_kind(path) == "file" then return path end
  end
  for _, snap in ipairs(core.listdir(dir .. "/snapshots") or {}) do
    local path = dir .. "/snapshots/" .. snap .. "/config.json"
    if core.file_kind(path) == "file" then return path end
  end
end

local function lmp_cache_path(id)
  return hub.lmp_cache_dir() .. "/hub/" .. id:gsub("/", "--") .. "/config.json"
end


-- download(id) -> path of the cached config.json
function hub.download(id, revision)
  if env("HF_HUB_OFFLINE") == "1" then
    fail(("%s: not in the Hugging Face cache (%s) or lmp's (%s), and HF_HUB_OFFLINE=1 forbids downloading it")
      :format(id, hub.hf_cache_dir(), hub.lmp_cache_dir()))
  end
  local endpoint = (env("HF_ENDPOINT") or "https://huggingface.co"):gsub("/+$", "")
  local url = ("%s/%s/resolve/%s/config.json"):format(endpoint, id, revision or "main")
  local headers = { "Accept: application/json" }
  local token = env("HF_TOKEN") or env("HUGGING_FACE_HUB_TOKEN")
  if token then headers[#headers + 1] = "Authorization: Bearer " .. token end
  local timeout = math.tointeger(tonumber(env("LMP_HTTP_TIMEOUT_MS") or "")) or 30000
  local max_bytes = math.tointeger(tonumber(env("LMP_HTTP_MAX_BYTES") or "")) or (4 << 20)
  -- the Hub redirects renamed repositories; HF_TOKEN goes only to HF_ENDPOINT's origin
  local resp, err = core.http_request({ url = url, headers = headers, timeout_ms = timeout, max_bytes = max_bytes,
                                        follow = 5 })
  if not resp then
    fail(("%s: cannot download config.json from %s (%s); offline? Use --config with a local file, or put the model in the Hugging Face cache")
      :format(id, endpoint, err))
  end
  if resp.status == 401 or resp.status == 403 then
    fail(token and ("%s: the Hub refused HF_TOKEN (HTTP %d): check the token and that it has access to this model"):format(id, resp.status)
               or ("%s: gated or private (HTTP %d): accept its license on the Hub and set HF_TOKEN"):format(id, resp.status))
  elseif resp.status == 404 then
    fail(("%s: no such model on %s, or it has no config.json (HTTP 404)"):format(id, endpoint))
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
  local path = lmp_cache_path(id)
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
  local path = hub.find_in_hf_cache(id, revision)
  if path then return path, "hf-cache" end
  path = lmp_cache_path(id)
  if core.file_kind(path) == "file" then return path, "lmp-cache" end
  return hub.download(id, revision)
end

return hub
