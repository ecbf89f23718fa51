/* libFuzzer target: the calculator sandbox. Each input is the source text of a calculator
 * (the bundled calculators and hostile ones are the seeds), checked as `lmp module check`,
 * lmp.check_calculator and the agent's validation check one:
 *   core.load_calculator(file, text)     calc.c: text only, the sandbox's environment, the
 *                                        load and required_parameters() under the limits
 *   db.check_entry(...)                  against a formula-free entry, as check_calculator:
 *                                        sample_parameters() (or generated samples), then
 *                                        every figure of each sample under the limits
 *   core.compute(calc, edge, backward)   once more on edge values (0, 2^31, 2^62, ...)
 * with small limits (fuzz_small_limits: 100,000 instructions, 1 MiB, 1 s of CPU a call).
 * Expected: success or an lmp error (every calculator failure is one, on one line without
 * control characters; so is every problem of the check). Findings: a plain Lua
 * error in the host (also one the checks catch, see FUZZ_SANDBOX_PRELUDE), a crash, a
 * sanitizer report, a hang, and after every input (collected):
 *   - the host's memory in use above what it was after the first input plus 8 MiB;
 *   - a calculator still registered (what the sandbox measures as kept must be freed);
 *   - any change to the host's globals, string/table/math libraries, the string metatable,
 *     package.loaded, lmp.core or the kernels and their COST tables;
 *   - anything reachable from the calculator (its table, its functions' upvalues and what
 *     they hold; a table with a metatable) that is outside the sandbox: io, os, debug, package, load,
 *     require, setmetatable, the host's _G, the registry, the host's library tables. */
#include "fuzz_common.h"
#include "fuzz_lua_coverage.h"

static const char DRIVER[] =
    FUZZ_SANDBOX_PRELUDE
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
    "local REG = debug.getregistry()\n"
    "local KERNELS = REG['lmp.kernels']\n"
    /* what must not change: name -> table, and a shallow copy of each */
    "local WATCHED = { _G = _G, string = string, table = table, math = math, ['string metatable'] = getmetatable(''),\n"
    "  ['package.loaded'] = package.loaded, ['lmp.core'] = core, kernels = KERNELS, ['kernels.COST'] = KERNELS.COST,\n"
    "  ['kernels.BACKWARD_COST'] = KERNELS.BACKWARD_COST }\n"
    "local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end\n"
    "local SNAP\n" /* taken before the first input, once the harness has set its globals */
    "local function unchanged()\n"
    "  for name, t in pairs(WATCHED) do\n"
    "    local was = SNAP[name]\n"
    "    for k, v in pairs(t) do assert(rawequal(was[k], v), ('%s.%s changed'):format(name, tostring(k))) end\n"
    "    for k in pairs(was) do assert(rawget(t, k) ~= nil, ('%s.%s removed'):format(name, tostring(k))) end\n"
    "  end\n"
    "end\n"
    /* the values a calculator must never reach */
    "local FORBIDDEN = { [_G] = 'the host _G', [REG] = 'the registry', [string] = 'the host string table',\n"
    "  [table] = 'the host table library', [math] = 'the host math library', [KERNELS] = 'the host kernels',\n"
    "  [KERNELS.COST] = 'the host kernels.COST', [core] = 'lmp.core', [package.loaded] = 'package.loaded' }\n"
    "for _, name in ipairs({ 'io', 'os', 'debug', 'package', 'coroutine', 'utf8', 'require', 'load', 'loadfile',\n"
    "                        'dofile', 'collectgarbage', 'setmetatable', 'getmetatable', 'xpcall', 'rawset', 'print' }) do\n"
    "  local v = _G[name]\n"
    "  if v ~= nil then FORBIDDEN[v] = name end\n"
    "  if type(v) == 'table' then\n"
    "    for k, f in pairs(v) do if type(f) == 'function' or type(f) == 'table' then FORBIDDEN[f] = name .. '.' .. k end end\n"
    "  end\n"
    "end\n"
    "local FILE = 'fuzz_calc.lua'\n"
    "local function contained(calc)\n"
    "  local seen, todo, n = {}, { calc.impl }, 0\n"
    "  while #todo > 0 and n < 200000 do\n"
    "    local v = table.remove(todo)\n"
    "    local t = type(v)\n"
    "    if (t == 'table' or t == 'function' or t == 'userdata' or t == 'thread') and not seen[v] then\n"
    "      seen[v], n = true, n + 1\n"
    "      assert(not FORBIDDEN[v], 'the calculator reaches ' .. tostring(FORBIDDEN[v]))\n"
    "      if t == 'table' then\n"
    "        assert(debug.getmetatable(v) == nil, 'a calculator table with a metatable')\n"
    "        for k, x in next, v do todo[#todo + 1] = k todo[#todo + 1] = x end\n"
    /* the upvalues the calculator's own functions hold (a host function's are out of its reach) */
    "      elseif t == 'function' and debug.getinfo(v, 'S').source == '@' .. FILE then\n"
    "        for i = 1, 255 do\n"
    "          local name, x = debug.getupvalue(v, i)\n"
    "          if name == nil then break end\n"
    "          todo[#todo + 1] = x\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local EDGES = { { 0, 1, 3, 64 }, { 1 << 31, (1 << 31) - 1, 4097, 2 }, { 1 << 62, math.maxinteger, 1, 0 } }\n"
    "local function edge_sample(calc, variant)\n"
    "  local ints, p = EDGES[variant % #EDGES + 1], {}\n"
    "  for i, name in ipairs(calc.names) do\n"
    "    local spec = calc.required[name]\n"
    "    if spec.type == 'bool' then p[name] = (variant + i) % 2 == 0\n"
    "    elseif spec.type == 'string' then p[name] = type(spec.values) == 'table' and spec.values[1] or 'x'\n"
    "    elseif spec.type == 'number' then p[name] = 0.5\n"
    "    elseif spec.default == nil or (variant + i) % 3 ~= 0 then p[name] = ints[(i - 1) % #ints + 1] end\n"
    "  end\n"
    "  return p\n"
    "end\n"
    "local function run(text, variant)\n"
    "  local calc = try(core.load_calculator, FILE, text)\n"
    "  if not calc then return end\n"
    "  assert(type(calc.full_class_name) == 'string' and calc.file == FILE, 'the calculator object')\n"
    "  if calc.same_as then return end\n"
    "  local key = registry.key_of(calc.full_class_name) or calc.full_class_name\n"
    "  local params = {}\n"
    "  for _, name in ipairs(calc.names) do params[#params + 1] = { name = name, type = 'int' } end\n"
    "  local entries = { [key] = { full_class_name = calc.full_class_name, code_location = {}, memory_analysis = {},\n"
    "    params_analysis = {}, flop_analysis = { thinking_process = '', parameters = params }, no_formulas = true } }\n"
    "  local problems = try(db.check_entry, entries, key, calc)\n"
    "  for _, p in ipairs(problems or {}) do\n"
    "    assert(type(p) == 'string' and not p:find('%c'), 'a problem is a string on one line, without control characters')\n"
    "    fuzz_feature(p)\n"
    "    trace('problem: ' .. p)\n"
    "  end\n"
    "  local fig = try(core.compute, calc, edge_sample(calc, variant), type(calc.impl.backward) == 'function')\n"
    "  if fig then\n"
    "    for k, v in pairs(fig) do assert(math.type(v) == 'integer' and v >= 0, 'figure ' .. k) end\n"
    "    assert(fig.matmul_flops <= fig.flops and fig.weights <= fig.reads, 'figure order')\n"
    "  end\n"
    "  trace(('checked %s: %d problems, figures %s'):format(calc.full_class_name, #(problems or {}), fig and 'ok' or 'refused'))\n"
    "  contained(calc)\n"
    "end\n"
    "local base\n"
    "return function (text, variant)\n"
    "  if not SNAP then\n"
    "    SNAP = {}\n"
    "    for name, t in pairs(WATCHED) do SNAP[name] = copy(t) end\n"
    "  end\n"
    "  run(text, variant)\n"
    "  internal_errors()\n"
    "  collectgarbage()\n"
    "  collectgarbage()\n"
    "  assert(next(REG['lmp.sandbox_roots'] or {}) == nil, 'a calculator is still registered after its input')\n"
    "  unchanged()\n"
    "  local used = core.memory_in_use()\n"
    "  base = base or used\n"
    "  assert(used <= base + (8 << 20), ('the host holds %d bytes after the input, %d after the first'):format(used, base))\n"
    "end\n";

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_small_limits();
  L = fuzz_new_driver(DRIVER, sizeof DRIVER - 1, "=fuzz_calc");
  lua_register(L, "fuzz_feature", lua_coverage_feature);
  lua_coverage_start(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_getglobal(L, "fuzz_driver");
  lua_pushlstring(L, (const char *)data, size);
  lua_pushinteger(L, (lua_Integer)size);
  fuzz_call(L, 2, 0, "calc");
  lua_settop(L, 0);
  return 0;
}
