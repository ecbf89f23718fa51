/* The sandbox for calculators (bundled, hand-written or generated: all run the same way).
 * As in haproxy's hlua.c and redis' script_lua.c: a counting allocator that refuses past
 * a cap, a LUA_MASKCOUNT hook as the CPU budget, an explicit allow-list of globals, and
 * text-only chunks (bytecode refused at load, see calc.c). */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

void *lmp_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  LmpAlloc *a = ud;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    free(ptr);
    a->used -= osize;
    return NULL;
  }
  if (a->limit != 0 && nsize > osize && a->used + (nsize - osize) > a->limit) {
    a->cap_hit = 1;
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p != NULL) a->used = a->used - osize + nsize;
  return p;
}

static LmpAlloc *host_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

#define HOOK_EVERY 1000

/* the count hook fires every `step` instructions: HOOK_EVERY, or the whole budget if smaller */
static int hook_step(int64_t budget) {
  return budget < HOOK_EVERY ? (int)(budget > 0 ? budget : 1) : HOOK_EVERY;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  LmpAlloc *a = host_of(L);
  a->budget -= lua_gethookcount(L);
  if (a->budget <= 0) {
    a->budget = HOOK_EVERY; /* room to build the error */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, hook_step(a->budget));
    luaL_error(L, "instruction budget exceeded (a loop that never ends?)");
  }
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, hook_step(a->budget));
}

static size_t env_size(const char *name, size_t dflt) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0') return dflt;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  return (*end == '\0' && v > 0) ? (size_t)v : dflt;
}

int sandbox_pcall(lua_State *L, int nargs, int nresults, const char *what) {
  LmpAlloc *a = host_of(L);
  size_t mem_cap = env_size("LMP_CALC_MEMORY", SANDBOX_MEMORY);
  size_t saved_limit = a->limit;
  int64_t saved_budget = a->budget;
  a->limit = a->used + mem_cap;
  a->cap_hit = 0;
  a->budget = (int64_t)env_size("LMP_CALC_INSTRUCTIONS", SANDBOX_INSTRUCTIONS);
  lua_Hook saved_hook = lua_gethook(L);
  int saved_mask = lua_gethookmask(L), saved_count = lua_gethookcount(L);
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, hook_step(a->budget));
  int rc = lua_pcall(L, nargs, nresults, 0);
  lua_sethook(L, saved_hook, saved_mask, saved_count);
  a->limit = saved_limit;
  a->budget = saved_budget;
  if (rc == LUA_OK) return LUA_OK;
  const char *msg;
  if (rc == LUA_ERRMEM || a->cap_hit) {
    lua_pop(L, 1);
    lua_pushfstring(L, "memory cap of %d MiB exceeded", (int)(mem_cap >> 20));
  } else if (!lua_isstring(L, -1)) {
    luaL_tolstring(L, -1, NULL); /* an error object: use its __tostring */
    lua_remove(L, -2);
  }
  msg = lua_tostring(L, -1);
  char buf[900];
  snprintf(buf, sizeof buf, "%s: %s", what, msg);
  lua_pop(L, 1);
  lmp_push_error(L, LMP_EXIT_CALC, buf);
  return rc;
}

/* pushes a shallow copy of the table at idx */
static void push_copy(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

/* env[lib] = a copy of the global library without the `skip` fields (env at -1) */
static void copy_lib(lua_State *L, const char *lib, const char *const *skip) {
  lua_getglobal(L, lib);
  push_copy(L, -1);
  for (const char *const *s = skip; s && *s; s++) {
    lua_pushnil(L);
    lua_setfield(L, -2, *s);
  }
  lua_remove(L, -2);
  lua_setfield(L, -2, lib);
}

void sandbox_push_env(lua_State *L) {
  static const char *const globals[] = {"pairs", "ipairs", "next", "select", "type", "tostring", "tonumber",
                                        "error", "assert", "pcall", "rawequal", "rawlen", "rawget", NULL};
  static const char *const no_string[] = {"dump", NULL};
  static const char *const no_math[] = {"random", "randomseed", NULL};
  lua_newtable(L);
  for (const char *const *g = globals; *g; g++) {
    lua_getglobal(L, *g);
    lua_setfield(L, -2, *g);
  }
  copy_lib(L, "math", no_math);
  copy_lib(L, "string", no_string);
  copy_lib(L, "table", NULL);
  /* kernels and kernels.COST are copied too: a calculator must not change what others call */
  lua_getfield(L, LUA_REGISTRYINDEX, "lmp.kernels");
  push_copy(L, -1);
  static const char *const tables[] = {"COST", "BACKWARD_COST"};
  for (int i = 0; i < 2; i++) {
    lua_getfield(L, -2, tables[i]);
    push_copy(L, -1);
    lua_setfield(L, -3, tables[i]);
    lua_pop(L, 1);
  }
  lua_remove(L, -2);
  lua_setfield(L, -2, "kernels");
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G");
}

/* core.sandbox_env() -> a fresh restricted environment (for tests and generated code) */
static int l_sandbox_env(lua_State *L) {
  sandbox_push_env(L);
  return 1;
}

/* core.memory_in_use() -> bytes the Lua state holds */
static int l_memory_in_use(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)host_of(L)->used);
  return 1;
}

int luaopen_lmp_sandbox(lua_State *L) {
  static const luaL_Reg fns[] = {{"sandbox_env", l_sandbox_env}, {"memory_in_use", l_memory_in_use}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
