/* The recursive walk (core.analyze): basic layers are priced by their calculator
 * (walk_price.c), composite layers sum their children, and each node's figures are scaled by
 * its repeat as LMP_FIGURES_TABLE's scale column says. Accounting is exact: per-call figures
 * are checked int64 (calc.c), node and total figures 128-bit with overflow checks. */
#include <stdarg.h>
#include <string.h>

#include "walk.h"

int walk_fail(Walk *w, const Node *n, int code, const char *fmt, ...) {
  lua_State *L = w->L;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, w->m->file);
  luaL_addstring(&b, ": ");
  node_json_path(n, &b);
  luaL_addstring(&b, " (");
  node_dotted_path(n, &b);
  luaL_addstring(&b, ")");
  luaL_pushresult(&b);
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lmp_raise(L, code, "%s: %s", lua_tostring(L, -2), msg);
}

static i128 mul_checked(Walk *w, const Node *n, i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r)) walk_fail(w, n, LMP_EXIT_CALC, "a figure exceeds 128 bits");
  return r;
}

/* Turns one instance's figures into the node's: parameters count every repeat, compute and
 * activation traffic the active instances, weight reads the instances a batch of `tokens`
 * can touch (all of them without `active`). */
static void scale_by_repeat(Walk *w, const Node *n, i128 f[N_COUNT]) {
  if (n->repeat == 1 && n->active < 0 && n->active_f == NULL) return; /* times 1 */
  i128 r = n->repeat, a = walk_active(w, n), touched = r;
  if (a < r) {
    i128 t = mul_checked(w, n, a, w->tokens);
    touched = t < r ? t : r;
  }
  const i128 weights = f[N_WEIGHT_BYTES];
  for (int i = 0; i < N_COUNT; i++) {
    switch ((FigureScale)LMP_FIGURES_TABLE[i].scale) {
      case SCALE_REPEAT: f[i] = mul_checked(w, n, f[i], r); break;
      case SCALE_ACTIVE: f[i] = mul_checked(w, n, f[i], a); break;
      case SCALE_TOUCHED: f[i] = mul_checked(w, n, f[i], touched); break;
      case SCALE_READS: /* activation reads per active instance, weight reads per touched one */
        if (__builtin_add_overflow(mul_checked(w, n, f[i] - weights, a), mul_checked(w, n, weights, touched), &f[i]))
          walk_fail(w, n, LMP_EXIT_CALC, "a figure exceeds 128 bits");
        break;
      case SCALE_PEAK: break;
    }
  }
}

/* adds a child's figures (or a root's) into acc: a sum, or for a peak the maximum */
static void add_figures(Walk *w, const Node *n, i128 acc[N_COUNT], const i128 add[N_COUNT]) {
  for (int i = 0; i < N_COUNT; i++) {
    if (LMP_FIGURES_TABLE[i].scale == SCALE_PEAK) {
      if (add[i] > acc[i]) acc[i] = add[i];
    } else if (__builtin_add_overflow(acc[i], add[i], &acc[i])) {
      walk_fail(w, n, LMP_EXIT_CALC, "a total exceeds 128 bits");
    }
  }
}

static int walk_node(Walk *w, const Node *n, int depth, int64_t multiplier, i128 fig[N_COUNT], int show);

/* sums the children of composite n into fig; their tables go in `children` of the table at
 * tbl when `show`. Returns whether any had no calculator. */
static int walk_composite(Walk *w, const Node *n, int depth, int64_t instances, i128 fig[N_COUNT], int show, int tbl) {
  lua_State *L = w->L;
  int unknown = 0;
  for (int i = 0; i < N_COUNT; i++) fig[i] = 0;
  if (show) lua_createtable(L, (int)n->nkids, 0);
  for (size_t i = 0; i < n->nkids; i++) {
    i128 kid[N_COUNT];
    unknown |= walk_node(w, &n->kids[i], depth + 1, instances, kid, show);
    if (show) lua_rawseti(L, -2, (lua_Integer)i + 1);
    add_figures(w, n, fig, kid);
  }
  if (show) lua_setfield(L, tbl, "children");
  return unknown;
}

/* Computes node n; fig gets its figures including its own repeat. When `show`, pushes the
 * node's result table. Returns whether it (or anything under it) had no calculator. */
static int walk_node(Walk *w, const Node *n, int depth, int64_t multiplier, i128 fig[N_COUNT], int show) {
  lua_State *L = w->L;
  luaL_checkstack(L, 24, "model walk");
  int top = lua_gettop(L);
  int64_t instances = multiplier * n->repeat; /* fits: checked when the model was loaded */
  if (show) result_push_node(w, n);
  int tbl = lua_gettop(L);
  int unknown = n->composite ? walk_composite(w, n, depth, instances, fig, show && depth < w->max_depth, tbl)
                             : walk_basic(w, n, instances, fig, show, tbl);
  scale_by_repeat(w, n, fig);
  if (show) result_finish_node(w, n, tbl, fig, unknown);
  lua_settop(L, show ? tbl : top);
  return unknown;
}

/* The result tree costs ~2 KB a node and its report as much again (10^6 rows of JSON peak
 * near 4.6 GB): at most LMP_MAX_ROWS (10^6) nodes are shown, counted before any is made. */
#define LMP_DEFAULT_MAX_ROWS ((size_t)1000000)
static size_t count_rows(const Node *nodes, size_t n, int depth, int max_depth, size_t max) {
  size_t rows = 0;
  for (size_t i = 0; i < n && rows <= max; i++) {
    rows++;
    if (nodes[i].composite && depth < max_depth)
      rows += count_rows(nodes[i].kids, nodes[i].nkids, depth + 1, max_depth, max - rows + 1);
  }
  return rows;
}

/* the walk's inputs from the table at idx: every runtime input, and the phase */
static void read_inputs(Walk *w, int idx) {
  lua_State *L = w->L;
  for (int i = 0; i < IN_COUNT; i++) {
    lua_getfield(L, idx, LMP_INPUTS[i].name);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
      lmp_raise(L, LMP_EXIT_USAGE, "input %s must be an integer >= 0", LMP_INPUTS[i].name);
    w->in[i] = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (__builtin_mul_overflow(w->in[IN_BATCH], w->in[IN_SEQ], &w->tokens))
    lmp_raise(L, LMP_EXIT_USAGE, "batch_size * seq_len exceeds 2^63-1");
  int phase = lua_getfield(L, idx, "phase") == LUA_TSTRING ? lmp_phase_index(lua_tostring(L, -1)) : -1;
  w->train = phase >= 0 && LMP_PHASES[phase].backward;
  lua_pop(L, 1);
}

/* opts.depth, clamped to [0, 2^30] (the int of --depth 4294967296 was 0: no rows); all by default */
static int read_depth(lua_State *L, int opts) {
  int depth = 1 << 30;
  if (opts == 0) return depth;
  lua_getfield(L, opts, "depth");
  if (lua_isinteger(L, -1)) {
    lua_Integer d = lua_tointeger(L, -1);
    depth = d < 0 ? 0 : d > depth ? depth : (int)d;
  }
  lua_pop(L, 1);
  return depth;
}

/* Puts the walk's tables at 4 (calcs), 5 (memo) and 6 (unknown), opts (at 4, if a table)
 * giving the first two when it has them: lmp.sweep keeps them across analyses. */
static void open_tables(Walk *w, int has_opts) {
  lua_State *L = w->L;
  lua_settop(L, 4);
  static const char *const kept[] = {"calcs", "memo"};
  for (int i = 0; i < 2; i++) {
    if (!has_opts || lua_getfield(L, 4, kept[i]) != LUA_TTABLE) {
      if (has_opts) lua_pop(L, 1);
      lua_newtable(L);
    }
  }
  lua_remove(L, 4);
  lua_newtable(L);
  w->lookup = 3;
  w->calcs = 4;
  w->memo = 5;
  w->unknown = 6;
}

/* core.analyze(model, inputs, lookup, opts) -> { totals, tree, unknown_modules, evaluations, complete }
 *   inputs: the runtime inputs (LMP_INPUTS, integers) and phase
 *   lookup: function(full_class_name) -> calculator object or nil
 *   opts.depth: deepest tree level materialised in the result (default: all)
 *   opts.calcs / opts.memo: tables the caller keeps across analyses (lmp.sweep) */
static int l_analyze(lua_State *L) {
  Walk w;
  memset(&w, 0, sizeof w);
  w.L = L;
  w.m = lmp_check_model(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  int has_opts = lua_istable(L, 4);
  w.max_depth = read_depth(L, has_opts ? 4 : 0);
  size_t max_rows = lmp_env_size("LMP_MAX_ROWS", LMP_DEFAULT_MAX_ROWS, SIZE_MAX);
  if (w.max_depth >= 1 && count_rows(w.m->roots, w.m->nroots, 1, w.max_depth, max_rows) > max_rows)
    return lmp_raise(L, LMP_EXIT_USAGE, "more than %zu layers to show (the limit; --depth N shows fewer, LMP_MAX_ROWS raises it)",
                     max_rows);
  read_inputs(&w, 2);
  open_tables(&w, has_opts);
  lua_createtable(L, 0, 5);                 /* the result, 7 */
  lua_createtable(L, (int)w.m->nroots, 0); /* its tree, 8 */
  i128 total[N_COUNT] = {0};
  int any_unknown = 0, show = w.max_depth >= 1;
  for (size_t i = 0; i < w.m->nroots; i++) {
    i128 fig[N_COUNT];
    any_unknown |= walk_node(&w, &w.m->roots[i], 1, 1, fig, show);
    if (show) lua_rawseti(L, 8, (lua_Integer)i + 1);
    add_figures(&w, &w.m->roots[i], total, fig);
  }
  lua_setfield(L, 7, "tree");
  lua_createtable(L, 0, N_COUNT);
  result_set_figures(&w, -1, total);
  lua_setfield(L, 7, "totals");
  result_push_unknown(&w);
  lua_setfield(L, 7, "unknown_modules");
  lua_pushinteger(L, w.evaluations);
  lua_setfield(L, 7, "evaluations");
  lua_pushboolean(L, !any_unknown);
  lua_setfield(L, 7, "complete");
  lua_createtable(L, 0, IN_COUNT); /* inputs_used: name -> true */
  for (int i = 0; i < IN_COUNT; i++)
    if (w.used & (1u << i)) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, LMP_INPUTS[i].name);
    }
  lua_setfield(L, 7, "inputs_used");
  return 1;
}

int luaopen_lmp_walk(lua_State *L) {
  static const luaL_Reg fns[] = {{"analyze", l_analyze}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
