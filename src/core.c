/* The Lua state lmp runs in (lmp_new_state): lmp.core, every C area merged into one table,
 * and the preloads of the host's embedded Lua files. main.c and the fuzz targets
 * (tests/fuzz) both build their state here, so the two cannot drift apart. */
#include <stdio.h>

#include <lualib.h>

#include "lmp.h"

#ifndef LMP_SOURCE_DIR
#define LMP_SOURCE_DIR ""
#endif

int luaopen_lmp_core(lua_State *L) {
  static lua_CFunction const areas[] = {luaopen_lmp_errors, luaopen_lmp_json,    luaopen_lmp_formula, luaopen_lmp_model,
                                        luaopen_lmp_walk,   luaopen_lmp_sandbox, luaopen_lmp_calc,    luaopen_lmp_fs,
                                        luaopen_lmp_http,   luaopen_lmp_concepts, luaopen_lmp_exact, luaopen_lmp_readfile,
                                        luaopen_lmp_clock,  luaopen_lmp_process};
  lua_newtable(L);
  for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++) {
    lua_pushcfunction(L, areas[i]);
    lua_call(L, 0, 1);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -5);
    }
    lua_pop(L, 1);
  }
  lua_pushliteral(L, LMP_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushliteral(L, LMP_SOURCE_DIR);
  lua_setfield(L, -2, "source_dir");
  return 1;
}

/* The host's own Lua files are compiled in and reached through package.preload (as mpv does). */
static int load_embedded(lua_State *L) {
  const LmpEmbedded *e = lua_touserdata(L, lua_upvalueindex(1));
  char chunk[256];
  snprintf(chunk, sizeof chunk, "=[lmp] %s", e->name);
  if (luaL_loadbufferx(L, e->source, e->len, chunk, "bt") != LUA_OK) /* our own build's bytecode */ return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static void register_preloads(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lmp_core);
  lua_setfield(L, -2, "lmp.core");
  for (const LmpEmbedded *e = lmp_embedded_lua; e->name != NULL; e++) {
    lua_pushlightuserdata(L, (void *)e);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, e->name);
  }
  lua_pop(L, 1);
}

static int open_state(lua_State *L) {
  luaL_openlibs(L);
  /* no bytecode dumps anywhere in the host: calculators must not reach string.dump */
  lua_getglobal(L, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  register_preloads(L);
  return 0;
}

lua_State *lmp_new_state(LmpAlloc *alloc, lua_CFunction panic) {
  lua_State *L = lua_newstate(lmp_alloc, alloc);
  if (L == NULL) return NULL;
  lua_atpanic(L, panic);
  lua_pushcfunction(L, open_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) { /* only out of memory: the libraries raise nothing else */
    lua_close(L);
    return NULL;
  }
  return L;
}
