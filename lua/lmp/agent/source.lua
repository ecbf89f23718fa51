-- Finding a module's Python source: from --source FILE, a --source-root (a checkout such as
-- transformers/ with its src/ layout, or a site-packages folder), or the site-packages of
-- the local Python when there is one; then cutting out the class (or function) and its
-- forward.
local core = require "lmp.core"
local util = require "lmp.util"
local fail = util.fail

local source = {}

-- "transformers.models.llama.modeling_llama.LlamaMLP" -> "transformers/models/llama/modeling_llama", "LlamaMLP"
function source.split(full_class_name)
  local module, name = full_class_name:match("^(.+)%.([%w_]+)$")
  if not module then fail(("'%s' is not a full class name (package.module.Class)"):format(full_class_name)) end
  return module:gsub("%.", "/"), name
end

-- site-packages folders of the local python3, if any
local function python_paths()
  local p = io.popen("python3 -c 'import sys; print(chr(10).join(p for p in sys.path if p))' 2>/dev/null")
  if not p then return {} end
  local out = {}
  for line in p:lines() do
    if line:match("site%-packages") or line:match("dist%-packages") then out[#out + 1] = line end
  end
  p:close()
  return out
end

-- find_file(full_class_name, roots) -> path of the .py file defining it, or nil, searched list
function source.find_file(full_class_name, roots)
  local rel = source.split(full_class_name)
  local candidates = {}
  for _, root in ipairs(roots) do
    root = root:gsub("/+$", "")
    for _, base in ipairs({ root, root .. "/src" }) do
      candidates[#candidates + 1] = base .. "/" .. rel .. ".py"
      candidates[#candidates + 1] = base .. "/" .. rel .. "/__init__.py"
    end
  end
  for _, path in ipairs(candidates) do
    if core.file_kind(path) == "file" then return path end
  end
  return nil, candidates
end

-- extract(text, name) -> the source of `class name` (or `def name`) with its body, and the
-- line it starts on; nil when the file has no such definition
function source.extract(text, name)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local start
  for i, line in ipairs(lines) do
    if line:match("^class%s+" .. name .. "[%s%(:]") or line:match("^def%s+" .. name .. "%s*%(") then
      start = i
      break
    end
  end
  if not start then return nil end
  -- decorators directly above belong to it
  local first = start
  while first > 1 and lines[first - 1]:match("^@") do first = first - 1 end
  local last = start
  for i = start + 1, #lines do
    local line = lines[i]
    if line:match("^%S") and not line:match("^#") and not line:match("^%)") then break end
    last = i
  end
  while last > start and lines[last]:match("^%s*$") do last = last - 1 end
  return table.concat(lines, "\n", first, last), first
end

-- lookup(full_class_name, opts) -> { file=, line=, text= } or nil, message
--   opts.source: a file to read; opts.source_root: a folder to search first
function source.lookup(full_class_name, opts)
  opts = opts or {}
  local _, name = source.split(full_class_name)
  local path, searched
  if opts.source then
    path = opts.source
  else
    local roots = {}
    if opts.source_root then roots[#roots + 1] = opts.source_root end
    for dir in (os.getenv("LMP_SOURCE_ROOTS") or ""):gmatch("[^:]+") do roots[#roots + 1] = dir end
    path, searched = source.find_file(full_class_name, roots)
    if not path and opts.use_python ~= false then -- only then ask the local Python where it looks
      for _, dir in ipairs(python_paths()) do roots[#roots + 1] = dir end
      path, searched = source.find_file(full_class_name, roots)
    end
    if not path then
      return nil, ("no source for %s (looked in %s)"):format(full_class_name,
        #roots > 0 and table.concat(roots, ", ") or "no folders: give --source FILE or --source-root DIR")
    end
  end
  local ok, text = pcall(core.read_file, path)
  if not ok then return nil, tostring(text) end
  local code, line = source.extract(text, name)
  if not code then return nil, ("%s has no class or function named %s"):format(path, name) end
  return { file = path, line = line, text = code, searched = searched }
end

return source
