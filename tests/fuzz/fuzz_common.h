/* Shared by the fuzz targets: one Lua state built as main.c builds it (the counting
 * allocator, the standard libraries without string.dump, the lmp.core and embedded
 * lua/lmp preloads), and the rule for what a call may end with.
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

#include <lualib.h>

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

/* A state with everything `lmp` has before it reads its command line. */
static inline lua_State *fuzz_new_state(void) {
  lua_State *L = lua_newstate(lmp_alloc, &fuzz_alloc_state);
  if (L == NULL) {
    fprintf(stderr, "fuzz: cannot create the Lua state\n");
    abort();
  }
  lua_atpanic(L, fuzz_panic);
  luaL_openlibs(L);
  lua_getglobal(L, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  lmp_register_preloads(L);
  return L;
}

static inline int fuzz_is_lmp_error(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, "lmp.Error");
  int yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!yes) return 0;
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

#endif
