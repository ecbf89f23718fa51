/* The result of a walk as Lua tables: one per shown node, the figures (exact: an integer,
 * or a decimal string past 2^63-1), and the classes that had no calculator with their
 * instance counts. */
#include <string.h>

#include "walk.h"

void result_push_node(Walk *w, const Node *n) {
  lua_State *L = w->L;
  lua_createtable(L, 0, 14);
  lua_pushstring(L, n->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, n->cls);
  lua_setfield(L, -2, "class");
  lua_pushinteger(L, n->repeat);
  lua_setfield(L, -2, "repeat");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  node_dotted_path(n, &b);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "path");
}

void result_set_figures(Walk *w, int idx, const i128 fig[N_COUNT]) {
  lua_State *L = w->L;
  idx = lua_absindex(L, idx);
  for (int i = 0; i < N_COUNT; i++) {
    if (LMP_FIGURES_TABLE[i].train_only && !w->train) continue;
    lmp_push_i128(L, fig[i]);
    lua_setfield(L, idx, LMP_FIGURES_TABLE[i].name);
  }
}

void result_set_basic(Walk *w, const Node *n, int tbl, const CalcSpec *spec, int params) {
  lua_State *L = w->L;
  if (spec != NULL) {
    lua_pushstring(L, spec->file);
    lua_setfield(L, tbl, "calculator");
  }
  lua_pushvalue(L, params);
  lua_setfield(L, tbl, "parameters");
  if (spec == NULL) {
    lua_pushboolean(L, 1);
    lua_setfield(L, tbl, "unknown");
  }
  if (n->tied_to) {
    lua_pushstring(L, n->tied_to);
    lua_setfield(L, tbl, "weights_tied_to");
  }
}

void result_finish_node(Walk *w, const Node *n, int tbl, const i128 fig[N_COUNT], int unknown) {
  lua_State *L = w->L;
  if (n->active >= 0 || n->active_f != NULL) {
    lua_pushinteger(L, walk_active(w, n));
    lua_setfield(L, tbl, "active");
  }
  result_set_figures(w, tbl, fig);
  if (unknown && n->composite) {
    lua_pushboolean(L, 1);
    lua_setfield(L, tbl, "incomplete");
  }
}

/* Instance counts are sums of repeat products, so past 2^63-1 when big repeats meet: each
 * class's is an i128 in a userdata (Lua aligns those to 8 bytes, hence memcpy). */
void result_count_unknown(Walk *w, const char *cls, int64_t instances) {
  lua_State *L = w->L;
  i128 count = 0;
  void *box;
  if (lua_getfield(L, w->unknown, cls) == LUA_TUSERDATA) {
    box = lua_touserdata(L, -1);
    memcpy(&count, box, sizeof count);
  } else {
    lua_pop(L, 1);
    box = lua_newuserdatauv(L, sizeof count, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, w->unknown, cls);
  }
  count += instances; /* cannot wrap: fewer than 2^64 layers of at most 2^63-1 instances */
  memcpy(box, &count, sizeof count);
  lua_pop(L, 1);
}

/* in lua_next order (the caller sorts them) */
void result_push_unknown(Walk *w) {
  lua_State *L = w->L;
  lua_newtable(L);
  lua_Integer k = 0;
  lua_pushnil(L);
  while (lua_next(L, w->unknown) != 0) {
    i128 count;
    memcpy(&count, lua_touserdata(L, -1), sizeof count);
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "class");
    lmp_push_i128(L, count);
    lua_setfield(L, -2, "count");
    lua_rawseti(L, -4, ++k);
    lua_pop(L, 1);
  }
}
