-- Shared by the install specs: shell commands, and the parameter count they all check.
local h = require "spec.helpers"

local shell = {}

shell.q = h.quote

-- run(cmd) -> stdout, stderr, exit code of a /bin/sh command line
shell.run = h.sh

function shell.has(program) return os.execute("command -v " .. program .. " >/dev/null 2>&1") == true end

-- the checkout the specs run in (they run from its root) and the build folder of LMP_EXE
shell.root = shell.run("pwd -P"):gsub("\n$", "")
shell.exe = h.exe
shell.build_dir = h.exe:match("^(.*)/[^/]+$")

-- `exe args` run from / with HOME an empty folder and none of lmp's data variables, so
-- nothing but the binary (and what it finds from its own place) can supply the data
function shell.isolated(exe, args, env)
  local home = h.tmpdir()
  local vars = ""
  for k, v in pairs(env or {}) do vars = vars .. " " .. k .. "=" .. shell.q(v) end
  return shell.run(("cd / && env -u LMP_HOME -u LMP_PATH -u LMP_DB -u XDG_DATA_HOME -u ANTHROPIC_API_KEY -u OPENAI_BASE_URL HOME=%s%s %s %s")
    :format(shell.q(home), vars, shell.q(exe), args))
end

-- Llama-2-7B's parameters from its config (vocab 32000, hidden 4096, intermediate 11008,
-- 32 layers, no biases): embeddings and lm_head, per layer q/k/v/o, gate/up/down and two
-- RMSNorm weights, the final norm. The published count is 6,738,415,616.
shell.LLAMA2_7B_PARAMS = 2 * 32000 * 4096 + 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096) + 4096

-- the files every install and the package hold, relative to the prefix
shell.INSTALLED = { "bin/lmp", "share/lmp/module_db.json", "share/lmp/modules_lua/torch_linear.lua",
  "share/lmp/models/llama-2-7b-hf.json", "share/lmp/docs/lua-api.md", "share/lmp/docs/model-format.md",
  "share/man/man1/lmp.1.gz", "share/bash-completion/completions/lmp" }

-- params of the analysis JSON on stdout
function shell.params(json_text)
  local ok, r = pcall(lmp.core.json_decode, json_text)
  return ok and type(r) == "table" and r.totals and r.totals.params or nil
end

return shell
