/* Shared by the fuzz targets: the Lua state main.c runs in (lmp_new_state, core.c: the
 * counting allocator, the standard libraries without string.dump, the lmp.core and
 * embedded lua/lmp preloads), and the rule for what a call may end with.
 *
 * Expected results: success, or an lmp.Error (a table with the lmp.Error metatable, an
 * integer .code and a string .message), which is how lmp reports every user error.
 * Findings (abort, so libFuzzer saves the input): any other error value (a plain string
 * is an internal error: what main.c prints as "internal error (please report it)"), an
 * out-of-memory error, and of course every crash, sanitizer report, leak and hang. */
#ifndef LMP_FUZZ_COMMON_H
#define LMP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static LmpAlloc fuzz_alloc_state;

static inline int fuzz_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "fuzz: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
  abort();
  return 0;
}

static inline int fuzz_traceback(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1; /* anything else (an lmp.Error) as it is */
}

/* main.c's state before it requires lmp (lmp_new_state): each target requires what it drives. */
static inline lua_State *fuzz_new_state(void) {
  lua_State *L = lmp_new_state(&fuzz_alloc_state, fuzz_panic);
  if (L == NULL) {
    fprintf(stderr, "fuzz: cannot create the Lua state\n");
    abort();
  }
  return L;
}

/* an lmp.Error with an integer code and a string message, as lmp raises them */
static inline int fuzz_is_lmp_error(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lmp_error_code(L, idx) < 0) return 0;
  int code_ok = lua_getfield(L, idx, "code") == LUA_TNUMBER && lua_isinteger(L, -1);
  int msg_ok = lua_getfield(L, idx, "message") == LUA_TSTRING;
  lua_pop(L, 2);
  return code_ok && msg_ok;
}

/* Calls the function below its nargs arguments in protected mode (with a traceback for
 * string errors). Returns 1 on success (nres results pushed), 0 after an lmp.Error
 * (popped); aborts on anything else. */
static inline int fuzz_call(lua_State *L, int nargs, int nres, const char *what) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, fuzz_traceback);
  lua_insert(L, base);
  int st = lua_pcall(L, nargs, nres, base);
  lua_remove(L, base);
  if (st == LUA_OK) return 1;
  if (st == LUA_ERRRUN && fuzz_is_lmp_error(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  fprintf(stderr, "fuzz: %s: %s: %s\n", what, st == LUA_ERRMEM ? "out of memory" : "internal error",
          lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
  abort();
}

/* A Lua state whose global fuzz_driver is the function the Lua chunk `driver` returns
 * (the model and CLI targets drive lmp through Lua). */
static inline lua_State *fuzz_new_driver(const char *driver, size_t len, const char *name) {
  lua_State *L = fuzz_new_state();
  if (luaL_loadbufferx(L, driver, len, name, "t") != LUA_OK) {
    fprintf(stderr, "%s: %s\n", name, lua_tostring(L, -1));
    abort();
  }
  fuzz_call(L, 0, 1, "driver");
  lua_setglobal(L, "fuzz_driver");
  return L;
}

/* Lua prelude of the targets that run untrusted calculators (fuzz_calc, fuzz_reply): the
 * C entry points that the checks call inside their own pcall (db.check_entry turns every
 * error into a problem string) are wrapped, so that a plain error in them (an internal
 * error, not a calculator's lmp error) is kept in `fuzz_internal` and raised after the
 * input; a check asks for at most 6 samples (db.MAX_SAMPLES, 32 in lmp), so an input makes
 * at most a dozen sandboxed calls, each under the small limits set by fuzz_small_limits.
 * LMP_FUZZ_TRACE=1 prints each outcome (trace(s)) on stderr, to see what a corpus does. */
#define FUZZ_SANDBOX_PRELUDE                                                           \
  "local core = require 'lmp.core'\n"                                                 \
  "require 'lmp'\n" /* the Lua-written kernels, as lmp has them before any calculator */ \
  "local db = require 'lmp.db'\n"                                                     \
  "db.MAX_SAMPLES = 6\n"                                                              \
  "local trace = os.getenv('LMP_FUZZ_TRACE') and function (s) io.stderr:write(s, '\\n') end or function () end\n" \
  "local fuzz_internal\n"                                                             \
  "for _, name in ipairs({ 'load_calculator', 'compute', 'call_calculator', 'eval' }) do\n" \
  "  local f = core[name]\n"                                                          \
  "  core[name] = function (...)\n"                                                   \
  "    local r = table.pack(xpcall(f, function (e)\n"                                 \
  "      if not core.is_error(e) then\n"                                              \
  "        fuzz_internal = fuzz_internal or debug.traceback('core.' .. name .. ': ' .. tostring(e), 2)\n" \
  "      end\n"                                                                       \
  "      return e\n"                                                                  \
  "    end, ...))\n"                                                                  \
  "    if r[1] then return table.unpack(r, 2, r.n) end\n"                             \
  "    error(r[2], 0)\n"                                                              \
  "  end\n"                                                                           \
  "end\n"                                                                             \
  "local function internal_errors()\n"                                                \
  "  local e = fuzz_internal\n"                                                       \
  "  fuzz_internal = nil\n"                                                           \
  "  if e then error(e, 0) end\n"                                                     \
  "end\n"

/* Small sandbox limits (unless set already): a hostile calculator costs milliseconds; the
 * CPU-time cap of 1 s a call bounds what the instruction budget does not see. */
static inline void fuzz_small_limits(void) {
  setenv("LMP_CALC_INSTRUCTIONS", "100000", 0);
  setenv("LMP_CALC_MEMORY", "1048576", 0);
  setenv("LMP_CALC_SECONDS", "1", 0);
}

#endif
