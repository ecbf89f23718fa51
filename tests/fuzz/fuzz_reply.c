/* libFuzzer target: the LLM reply path of `lmp generate`, without any network. Each input
 * is one HTTP answer: its first byte picks the provider and the status ('a': Anthropic,
 * 200; 'o': OpenAI, 200; any other byte: bit 0 the provider, the rest an index into
 * STATUSES, mostly 200 but also 429, 5xx, 4xx, 3xx), the rest is the response body. It goes
 *   llm.complete(config, system, user)   core.http_request and core.sleep_ms replaced by
 *                                        stubs answering that body: json.c, the usage and
 *                                        cost accounting, the text extraction, api_message
 *   prompt.parse(text)                   the fenced ```json / ```lua blocks, the entry JSON
 *                                        (when the body is no valid reply, the body itself)
 *   agent.validate(ctx, entry, lua)      db.entry_problem, the required fields, the
 *                                        calculator loaded in the sandbox and checked against
 *                                        the entry on its samples and the model's parameters
 * A one-line lmp error is an expected result of llm.complete; prompt.parse and
 * agent.validate must return (a problem is a string), never raise. Anything else (a plain
 * Lua error, also one caught inside the checks, see FUZZ_SANDBOX_PRELUDE; a crash, a
 * sanitizer report, a hang, a memory blow-up) is a finding. The sandbox's limits are set
 * small (fuzz_small_limits) so that hostile calculators cost little. */
#include "fuzz_common.h"
#include "fuzz_lua_coverage.h"

static const char DRIVER[] =
    FUZZ_SANDBOX_PRELUDE
    "local llm = require 'lmp.agent.llm'\n"
    "local prompt = require 'lmp.agent.prompt'\n"
    "local agent = require 'lmp.agent'\n"
    "local registry = require 'lmp.registry'\n"
    "local function handler(e)\n"
    "  if core.is_error(e) then return e end\n"
    "  return debug.traceback(tostring(e), 2)\n"
    "end\n"
    "local function try(f, ...)\n"
    "  local r = table.pack(xpcall(f, handler, ...))\n"
    "  if r[1] then return table.unpack(r, 2, r.n) end\n"
    "  if core.is_error(r[2]) then\n"
    "    assert(not r[2].message:find('%c'), 'an lmp error with a control character (a newline, an escape)')\n"
    "    fuzz_feature(r[2].message)\n"
    "    trace('lmp error: ' .. r[2].message)\n"
    "    return nil\n"
    "  end\n"
    "  error(r[2], 0)\n"
    "end\n"
    /* must not raise at all: a raise is a finding */
    "local function must(f, ...)\n"
    "  local r = table.pack(xpcall(f, handler, ...))\n"
    "  if r[1] then return table.unpack(r, 2, r.n) end\n"
    "  error(core.is_error(r[2]) and ('raised ' .. r[2].message) or r[2], 0)\n"
    "end\n"
    "local answer = {}\n"
    "core.http_request = function (req)\n"
    "  assert(type(req.url) == 'string' and type(req.body) == 'string', 'request')\n"
    "  return answer.value\n"
    "end\n"
    "core.sleep_ms = function () end\n"
    "local STATUSES = { 200, 200, 200, 200, 200, 200, 200, 200, 429, 500, 503, 400, 401, 403, 404, 301, 307 }\n"
    "local CONFIGS = {}\n"
    "for _, p in ipairs({ 'anthropic', 'openai' }) do\n"
    "  CONFIGS[p] = { provider = p, model = llm.DEFAULT_MODELS[p], key = 'fuzz-key', base_url = 'http://127.0.0.1:9',\n"
    "                 timeout_ms = 1000, retries = 1, backoff_ms = 0, log = function () end, max_calls = 10 }\n"
    "end\n"
    "local CLASS = 'torch.nn.modules.activation.Mish'\n"
    "local CTX = { full_class_name = CLASS, key = registry.key_of(CLASS), file = 'fuzz_reply.lua', db = {},\n"
    "              layer_params = { numel = 64 }, runtime = { batch_size = 1, seq_len = 8, a_bits = 16, w_bits = 16 } }\n"
    "local function run(data)\n"
    "  local b = data:byte(1) or 0\n"
    "  local provider = b == 97 and 'anthropic' or b == 111 and 'openai' or (b & 1 == 0 and 'anthropic' or 'openai')\n"
    "  local status = (b == 97 or b == 111) and 200 or STATUSES[(b >> 1) % #STATUSES + 1]\n"
    "  local body = data:sub(2)\n"
    "  answer.value = { status = status, body = body, headers = { ['retry-after'] = b % 3 == 0 and '0' or nil,\n"
    "                                                             location = b % 5 == 0 and 'http://elsewhere/' or nil } }\n"
    "  llm.calls_made = 0\n"
    "  local text = try(llm.complete, CONFIGS[provider], 'system', 'user')\n"
    "  assert(text == nil or type(text) == 'string', 'the reply text')\n"
    "  local entry, lua_text = must(prompt.parse, text or body)\n"
    "  if not entry then\n"
    "    assert(type(lua_text) == 'string' and not lua_text:find('%c'), 'parse gives a problem on one line')\n"
    "    fuzz_feature(lua_text)\n"
    "    return\n"
    "  end\n"
    "  assert(type(entry) == 'table' and type(lua_text) == 'string', 'parse gives an entry and a calculator')\n"
    "  local ctx = {}\n"
    "  for k, v in pairs(CTX) do ctx[k] = v end\n"
    "  ctx.db = {}\n"
    "  local problems = must(agent.validate, ctx, entry, lua_text)\n"
    "  assert(type(problems) == 'table', 'validate gives a list')\n"
    "  for _, p in ipairs(problems) do\n"
    "    assert(type(p) == 'string' and not p:find('%c'), 'a problem is a string on one line, without control characters')\n"
    "    fuzz_feature(p)\n"
    "    trace('problem: ' .. p)\n"
    "  end\n"
    "end\n"
    "return function (data)\n"
    "  run(data)\n"
    "  internal_errors()\n"
    "end\n";

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_small_limits();
  L = fuzz_new_driver(DRIVER, sizeof DRIVER - 1, "=fuzz_reply");
  lua_register(L, "fuzz_feature", lua_coverage_feature);
  lua_coverage_start(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_getglobal(L, "fuzz_driver");
  lua_pushlstring(L, (const char *)data, size);
  fuzz_call(L, 1, 0, "reply");
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
