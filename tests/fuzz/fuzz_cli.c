/* libFuzzer target: the command line of lmp. Each input is an argument list, NUL-separated
 * (a trailing NUL ends the last argument; "a\0\0b" holds an empty argument), given to
 *   cli.analyze_options(args)          every check of `lmp analyze`, nothing loaded
 *   cli.parse(args, SPEC, "fuzz")      the option parser over every kind of option
 * A usage error (an lmp.Error) is an expected result; a plain Lua error (what main.c
 * reports as an internal error), a crash, a sanitizer report or a hang is a finding. The
 * driver also checks what a successful parse returns against the spec. */
#include "fuzz_common.h"
#include "fuzz_lua_coverage.h"

static const char DRIVER[] =
    "local core = require 'lmp.core'\n"
    "local cli = require 'lmp.cli'\n"
    "local function handler(e)\n"
    "  if core.is_error(e) then return e end\n"
    "  return debug.traceback(tostring(e), 2)\n"
    "end\n"
    "local function try(f, ...)\n"
    "  local r = table.pack(xpcall(f, handler, ...))\n"
    "  if r[1] then return table.unpack(r, 2, r.n) end\n"
    "  if core.is_error(r[2]) then return nil end\n"
    "  error(r[2], 0)\n"
    "end\n"
    "local SPEC = { batch = 'int', ['kv-len'] = 'count', ['w-bits'] = 'bits', format = 'string', modules = 'list',\n"
    "  offline = 'flag' }\n"
    /* the phases one analysis runs (core.PHASES without generate) and the formats */
    "local PHASES, FORMATS = {}, require('lmp.report').FORMATS\n"
    "for _, p in ipairs(core.PHASES) do PHASES[p.name] = not p.steps end\n"
    "return function (args)\n"
    "  local o, inputs, format = try(cli.analyze_options, args)\n"
    "  if o then\n"
    "    assert(FORMATS[format], 'format')\n"
    "    if inputs.new_tokens then\n"
    "      assert(o.phase == 'generate' and inputs.prompt_len >= 1 and inputs.new_tokens >= 1, 'generate inputs')\n"
    "    else\n"
    "      local checked = require('lmp').inputs(inputs)\n"
    "      assert(PHASES[checked.phase], 'phase')\n"
    "    end\n"
    "  end\n"
    "  local opts, pos = try(cli.parse, args, SPEC, 'fuzz')\n"
    "  if opts then\n"
    "    for k, v in pairs(opts) do\n"
    "      local kind = SPEC[k]\n"
    "      assert(kind, 'an option outside the spec')\n"
    "      if kind == 'int' or kind == 'count' then assert(math.type(v) == 'integer' and v >= 0, kind .. ' option')\n"
    "      elseif kind == 'bits' then assert(math.type(v) == 'integer' and v >= 1 and v <= 64, 'bits option')\n"
    "      elseif kind == 'list' then assert(type(v) == 'table' and #v >= 1, 'list option')\n"
    "      elseif kind == 'flag' then assert(v == true, 'flag option')\n"
    "      else assert(type(v) == 'string', 'string option') end\n"
    "    end\n"
    "    assert(#pos <= #args, 'positionals')\n"
    "  end\n"
    "end\n";

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = fuzz_new_driver(DRIVER, sizeof DRIVER - 1, "=fuzz_cli");
  lua_coverage_start(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_getglobal(L, "fuzz_driver");
  lua_newtable(L);
  lua_Integer n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i == size || data[i] == '\0') {
      if (i == size && i == start && size > 0) break; /* "a\0" is one argument */
      if (size == 0) break;                             /* no input, no arguments */
      lua_pushlstring(L, (const char *)data + start, i - start);
      lua_rawseti(L, -2, ++n);
      start = i + 1;
    }
  }
  fuzz_call(L, 1, 0, "cli");
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
