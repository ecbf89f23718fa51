/* The recursive walk: basic layers are priced by their calculator, composite layers sum
 * their children and multiply by their repeat. Accounting is exact: per-call figures are
 * checked int64 (calc.c), node and total figures 128-bit with overflow checks. Each distinct
 * (class, evaluated parameters) pair is computed once (the memo: one analysis, or every
 * point of an lmp.sweep), so a repeated block costs one calculator call however many times
 * it repeats or reappears. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lmp.h"

/* A node's figures. All are sums over the subtree, multiplied by repeats, except the
 * activation peak, which is a maximum: the largest working set (activation inputs +
 * outputs + intermediates) of any one basic layer. In training, flops and matmul_flops
 * include the backward pass, which backward_* also show on their own. */
#define INPUT_NAME(i) (LMP_INPUTS[i].name)

typedef struct {
  lua_State *L;
  Model *m;
  int64_t in[IN_COUNT];
  int64_t tokens; /* batch_size * seq_len */
  int train;
  int lookup, calcs, memo, unknown;
  int max_depth;
  int64_t evaluations;
} Walk;

/* runtime variables for ${...} templates: the inputs, and the byte forms of whole-byte widths */
static int runtime_lookup(void *ud, int is_ref, const char *name, FValue *out, char *err, size_t errlen) {
  Walk *w = ud;
  memset(out, 0, sizeof *out);
  out->den = 1;
  if (is_ref) {
    snprintf(err, errlen, "{%s}: module references belong in module_db.json formulas, not in model parameters", name);
    return -1;
  }
  for (int i = 0; i < IN_COUNT; i++) {
    if (strcmp(name, INPUT_NAME(i)) == 0) {
      out->num = w->in[i];
      return 0;
    }
    const char *bytes = LMP_INPUTS[i].bytes_name;
    if (bytes != NULL && strcmp(name, bytes) == 0) { /* a bit width in bytes: 4 bits is 1/2 */
      out->num = w->in[i];
      out->den = 8;
      if (out->num % 8 == 0) {
        out->num /= 8;
        out->den = 1;
      }
      return 0;
    }
  }
  /* the list of runtime variables, from the table */
  char list[400];
  size_t used = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < IN_COUNT; i++) {
      const char *v = pass == 0 ? INPUT_NAME(i) : LMP_INPUTS[i].bytes_name;
      if (v != NULL) used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", v);
    }
  snprintf(err, errlen, "unknown variable '%s' (runtime variables: %s)", name, list);
  return -1;
}

static void push_location(Walk *w, const Node *n) {
  luaL_Buffer b;
  luaL_buffinit(w->L, &b);
  luaL_addstring(&b, w->m->file);
  luaL_addstring(&b, ": ");
  node_json_path(n, &b);
  luaL_addstring(&b, " (");
  node_dotted_path(n, &b);
  luaL_addstring(&b, ")");
  luaL_pushresult(&b);
}

static int walk_fail(Walk *w, const Node *n, int code, const char *msg) {
  push_location(w, n);
  lmp_raise(w->L, code, "%s: %s", lua_tostring(w->L, -1), msg);
  return 0;
}


/* Memo key: class, then name=value for every parameter the calculator takes (sorted). */

static int protected_compute(lua_State *L) {
  int64_t *fig = lua_touserdata(L, 3);
  calc_compute(L, 1, 2, lua_toboolean(L, 4), fig);
  return 0;
}

/* Looks up (and caches) the calculator for a class; pushes it, or false when there is none. */
static void push_calculator(Walk *w, const Node *n) {
  lua_State *L = w->L;
  if (lua_getfield(L, w->calcs, n->cls) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_pushvalue(L, w->lookup);
  lua_pushstring(L, n->cls);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char *msg = luaL_tolstring(L, -1, NULL);
    walk_fail(w, n, LMP_EXIT_CALC, msg);
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, w->calcs, n->cls);
}

static void add_figures(Walk *w, const Node *n, i128 acc[N_COUNT], const i128 add[N_COUNT]) {
  for (int i = 0; i < N_COUNT; i++) {
    if (i == N_PEAK) {
      if (add[i] > acc[i]) acc[i] = add[i];
    } else if (__builtin_add_overflow(acc[i], add[i], &acc[i])) {
      walk_fail(w, n, LMP_EXIT_CALC, "a total exceeds 128 bits");
    }
  }
}

/* sets the node figures as fields of the table at idx (backward ones only in training) */
static void set_figures(Walk *w, int idx, const i128 fig[N_COUNT]) {
  lua_State *L = w->L;
  idx = lua_absindex(L, idx);
  for (int i = 0; i < N_COUNT; i++) {
    if ((i == N_BWD_FLOPS || i == N_BWD_MATMUL) && !w->train) continue;
    lmp_push_i128(L, fig[i]);
    lua_setfield(L, idx, LMP_FIGURES_TABLE[i].name);
  }
}

static i128 mul_checked(Walk *w, const Node *n, i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r)) walk_fail(w, n, LMP_EXIT_CALC, "a figure exceeds 128 bits");
  return r;
}

/* the instances of n a token runs through (MoE `active`); every one of them otherwise */
static int64_t active_of(Walk *w, const Node *n) {
  if (n->active_f != NULL) {
    FValue v;
    char err[600], msg[900];
    if (formula_eval(n->active_f, runtime_lookup, w, &v, err, sizeof err) != 0) {
      snprintf(msg, sizeof msg, "active: formula \"%s\": %s", n->active_src, err);
      walk_fail(w, n, LMP_EXIT_USAGE, msg);
    }
    if (v.str != NULL || v.den != 1 || v.num < 0 || v.num > n->repeat) {
      snprintf(msg, sizeof msg, "active: formula \"%s\" must give an integer from 0 to repeat (%lld)", n->active_src,
               (long long)n->repeat);
      walk_fail(w, n, LMP_EXIT_USAGE, msg);
    }
    return (int64_t)v.num;
  }
  return n->active >= 0 ? n->active : n->repeat;
}

/* Turns one instance's figures into the node's: parameters count every repeat, compute and
 * activation traffic the active instances, weight reads the instances a batch of `tokens`
 * can touch (all of them without `active`). */
static void scale_by_repeat(Walk *w, const Node *n, i128 f[N_COUNT]) {
  i128 r = n->repeat, a = active_of(w, n);
  i128 weight_instances = r;
  if (a < r) {
    i128 touched = mul_checked(w, n, a, w->tokens);
    weight_instances = touched < r ? touched : r;
  }
  i128 act_reads = f[N_READS] - f[N_WEIGHT_BYTES];
  f[N_PARAMS] = mul_checked(w, n, f[N_PARAMS], r);
  f[N_ACTIVE_PARAMS] = mul_checked(w, n, f[N_ACTIVE_PARAMS], a);
  static const int by_active[] = {N_FLOPS, N_MATMUL, N_WRITES, N_INTER, N_STATE, N_BWD_FLOPS, N_BWD_MATMUL};
  for (size_t i = 0; i < sizeof by_active / sizeof by_active[0]; i++) f[by_active[i]] = mul_checked(w, n, f[by_active[i]], a);
  f[N_WEIGHT_BYTES] = mul_checked(w, n, f[N_WEIGHT_BYTES], weight_instances);
  f[N_READS] = mul_checked(w, n, act_reads, a);
  if (__builtin_add_overflow(f[N_READS], f[N_WEIGHT_BYTES], &f[N_READS])) walk_fail(w, n, LMP_EXIT_CALC, "a figure exceeds 128 bits");
}

/* one call's calculator figures -> the figures of one instance of basic layer n */
static void basic_figures(Walk *w, const Node *n, const int64_t c[CF_COUNT], i128 f[N_COUNT]) {
  if (w->train && c[CF_STATE] > 0) {
    /* a layer that holds state is a cache: training runs with use_cache=False */
    for (int i = 0; i < N_COUNT; i++) f[i] = 0;
    f[N_PARAMS] = f[N_ACTIVE_PARAMS] = n->tied_to != NULL ? 0 : c[CF_PARAMS];
    return;
  }
  f[N_FLOPS] = (i128)c[CF_FLOPS] + (w->train ? c[CF_BWD_FLOPS] : 0);
  f[N_MATMUL] = (i128)c[CF_MATMUL] + (w->train ? c[CF_BWD_MATMUL] : 0);
  f[N_PARAMS] = f[N_ACTIVE_PARAMS] = n->tied_to != NULL ? 0 : c[CF_PARAMS]; /* tied: counted at the owner */
  f[N_READS] = c[CF_READS];
  f[N_WRITES] = c[CF_WRITES];
  f[N_INTER] = c[CF_INTER];
  f[N_WEIGHT_BYTES] = c[CF_WEIGHTS];
  f[N_STATE] = c[CF_STATE];
  f[N_PEAK] = (i128)c[CF_READS] - c[CF_WEIGHTS] + c[CF_WRITES] + c[CF_INTER];
  f[N_BWD_FLOPS] = w->train ? c[CF_BWD_FLOPS] : 0;
  f[N_BWD_MATMUL] = w->train ? c[CF_BWD_MATMUL] : 0;
}

/* ---- the fast path for a basic layer: parameters evaluated in C, the memo key built by
 * merging them with the calculator's sorted parameter names, and a Lua table of parameters
 * made only when the calculator must actually run (or the tree shows the layer) ---- */

typedef struct {
  const char *name;
  ParamKind kind; /* P_FORMULA is evaluated to P_INT */
  int64_t i;
  double d;
  const char *s;
  size_t slen;
} PVal;

#define FAST_MAX_PARAMS 64

static void eval_params(Walk *w, const Node *n, PVal *vals) {
  for (size_t i = 0; i < n->nparams; i++) {
    const Param *p = &n->params[i];
    PVal *v = &vals[i];
    v->name = p->name;
    v->kind = (ParamKind)p->kind;
    v->i = 0;
    v->d = 0;
    v->s = NULL;
    v->slen = 0;
    if (p->kind == P_INT || p->kind == P_BOOL) v->i = p->i;
    else if (p->kind == P_NUM) v->d = p->d;
    else if (p->kind == P_STR) { v->s = p->s; v->slen = p->slen; }
    if (p->kind == P_FORMULA) {
      FValue fv;
      char err[600], msg[900];
      if (formula_eval(p->f, runtime_lookup, w, &fv, err, sizeof err) != 0) {
        snprintf(msg, sizeof msg, "parameter '%s': formula \"%s\": %s", p->name, formula_source(p->f), err);
        walk_fail(w, n, LMP_EXIT_USAGE, msg);
      }
      if (fv.str != NULL || fv.den != 1 || fv.num < INT64_MIN || fv.num > INT64_MAX) {
        snprintf(msg, sizeof msg, "parameter '%s': formula \"%s\" %s", p->name, formula_source(p->f),
                 fv.str ? "gives a string" : fv.den != 1 ? "does not give an integer (use //, ceil or floor)"
                                                         : "gives a value beyond 64 bits");
        walk_fail(w, n, LMP_EXIT_USAGE, msg);
      }
      v->kind = P_INT;
      v->i = (int64_t)fv.num;
    }
  }
}

static void push_pval(lua_State *L, const PVal *v) {
  switch (v->kind) {
    case P_INT: case P_FORMULA: lua_pushinteger(L, v->i); break;
    case P_BOOL: lua_pushboolean(L, (int)v->i); break;
    case P_NUM: lua_pushnumber(L, v->d); break;
    case P_STR: lua_pushlstring(L, v->s, v->slen); break;
  }
}

/* a calculator's parameter names in C, with the runtime input each stands for (or -1);
 * kept in the calculator object as "_names" (a userdata), so built once per calculator */
typedef struct {
  size_t n;
  const char *names[FAST_MAX_PARAMS]; /* anchored by the calculator's `names` table */
  int runtime[FAST_MAX_PARAMS];
  int has_default[FAST_MAX_PARAMS];   /* an integer or boolean default, in default_value */
  int64_t default_value[FAST_MAX_PARAMS];
} CalcInfo;

static CalcInfo *calc_info(lua_State *L, int calc) {
  if (lua_getfield(L, calc, "_names") == LUA_TUSERDATA) {
    CalcInfo *ci = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return ci;
  }
  lua_pop(L, 1);
  CalcInfo *ci = lua_newuserdatauv(L, sizeof(CalcInfo), 0);
  ci->n = 0;
  lua_getfield(L, calc, "names");
  size_t count = (size_t)lua_rawlen(L, -1);
  if (count > FAST_MAX_PARAMS) {
    ci->n = (size_t)-1; /* too many for the fast path */
  } else {
    for (size_t i = 0; i < count; i++) {
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      ci->names[i] = lua_tostring(L, -1);
      lua_pop(L, 1);
      ci->runtime[i] = -1;
      for (int k = 0; k < IN_COUNT; k++)
        if (strcmp(ci->names[i], INPUT_NAME(k)) == 0) ci->runtime[i] = k;
      ci->has_default[i] = 0;
      lua_getfield(L, calc, "required");
      lua_getfield(L, -1, ci->names[i]);
      int t = lua_getfield(L, -1, "default");
      if (t == LUA_TBOOLEAN || lua_isinteger(L, -1)) {
        ci->has_default[i] = 1;
        ci->default_value[i] = t == LUA_TBOOLEAN ? lua_toboolean(L, -1) : lua_tointeger(L, -1);
      }
      lua_pop(L, 3);
    }
    ci->n = count;
  }
  lua_pop(L, 1);
  lua_setfield(L, calc, "_names");
  return ci;
}

/* "\x1fi<decimal>" into out (at least 24 bytes); returns its length. No snprintf: keys are
 * built for every basic layer of every sweep point. */
static size_t key_int(char *out, int64_t v) {
  char digits[24];
  int n = 0;
  uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  size_t len = 0;
  out[len++] = '\x1f';
  out[len++] = 'i';
  if (v < 0) out[len++] = '-';
  while (n > 0) out[len++] = digits[--n];
  return len;
}

/* pushes the memo key, or returns 0 (nothing pushed) when the layer's parameters do not
 * match the calculator's names (the slow path then reports the problem) */
static int push_fast_key(Walk *w, const Node *n, const CalcInfo *ci, const PVal *vals) {
  if (ci->n == (size_t)-1) return 0;
  char buf[2048];
  size_t len = 0;
#define KEY_PUT(p, l) do { size_t l_ = (l); if (len + l_ >= sizeof buf) return 0; memcpy(buf + len, (p), l_); len += l_; } while (0)
  KEY_PUT(n->cls, strlen(n->cls));
  if (w->train) KEY_PUT("\x1etrain", 6);
  size_t j = 0;
  for (size_t i = 0; i < ci->n; i++) {
    int cmp = j < n->nparams ? strcmp(ci->names[i], vals[j].name) : -1;
    if (cmp > 0) return 0; /* the layer gives a parameter the calculator does not take */
    char num[64];
    int k;
    if (cmp < 0) { /* not given: a runtime input, a default, or missing */
      if (ci->runtime[i] >= 0) KEY_PUT(num, key_int(num, w->in[ci->runtime[i]]));
      else if (ci->has_default[i]) KEY_PUT(num, key_int(num, ci->default_value[i]));
      else return 0;
      continue;
    }
    const PVal *v = &vals[j++];
    switch (v->kind) {
      case P_INT: case P_FORMULA: KEY_PUT(num, key_int(num, v->i)); break;
      case P_BOOL: KEY_PUT(v->i ? "\x1f" "T" : "\x1f" "F", 2); break;
      case P_NUM: k = snprintf(num, sizeof num, "\x1fn%.17g", v->d); KEY_PUT(num, (size_t)k); break;
      case P_STR:
        k = snprintf(num, sizeof num, "\x1fs%zu:", v->slen);
        KEY_PUT(num, (size_t)k);
        KEY_PUT(v->s, v->slen);
        break;
    }
  }
  if (j != n->nparams) return 0;
#undef KEY_PUT
  lua_pushlstring(w->L, buf, len);
  return 1;
}

/* the Lua table of parameters: the layer's, plus the runtime inputs the calculator takes
 * and the layer leaves out */
static void push_param_table(Walk *w, const Node *n, const PVal *vals, int calc) {
  lua_State *L = w->L;
  lua_createtable(L, 0, (int)n->nparams + 2);
  for (size_t i = 0; i < n->nparams; i++) {
    push_pval(L, &vals[i]);
    lua_setfield(L, -2, vals[i].name);
  }
  if (calc == 0) return;
  for (int i = 0; i < IN_COUNT; i++) {
    lua_getfield(L, calc, "required");
    int wants = lua_getfield(L, -1, INPUT_NAME(i)) != LUA_TNIL;
    lua_pop(L, 2);
    if (wants && lua_getfield(L, -1, INPUT_NAME(i)) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushinteger(L, w->in[i]);
      lua_setfield(L, -2, INPUT_NAME(i));
    } else if (wants) {
      lua_pop(L, 1);
    }
  }
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

/* Computes node n; fig gets its figures including its own repeat. When `show`, pushes the
 * node's result table. *unknown is set if it (or anything under it) had no calculator. */
static void walk_node(Walk *w, const Node *n, int depth, int64_t multiplier, i128 fig[N_COUNT], int *unknown, int show) {
  lua_State *L = w->L;
  luaL_checkstack(L, 24, "model walk");
  int top = lua_gettop(L);
  int64_t mult = multiplier * n->repeat; /* fits: checked when the model was loaded */
  int own_unknown = 0;
  for (int i = 0; i < N_COUNT; i++) fig[i] = 0;
  if (show) {
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
  int tbl = lua_gettop(L);
  if (n->composite) {
    int show_kids = show && depth < w->max_depth;
    if (show_kids) lua_createtable(L, (int)n->nkids, 0);
    for (size_t i = 0; i < n->nkids; i++) {
      i128 kid[N_COUNT];
      int kid_unknown = 0;
      walk_node(w, &n->kids[i], depth + 1, mult, kid, &kid_unknown, show_kids);
      if (show_kids) lua_rawseti(L, -2, (lua_Integer)i + 1);
      add_figures(w, n, fig, kid);
      own_unknown |= kid_unknown;
    }
    if (show_kids) lua_setfield(L, tbl, "children");
  } else {
    PVal stack_vals[16];
    PVal *vals = n->nparams <= 16 ? stack_vals : lua_newuserdatauv(L, n->nparams * sizeof(PVal), 0);
    eval_params(w, n, vals);
    push_calculator(w, n);
    int calc = lua_gettop(L);
    int params = 0; /* the Lua parameter table, once made */
    if (!lua_toboolean(L, calc)) {
      own_unknown = 1;
      lua_getfield(L, w->unknown, n->cls);
      /* instances so far: a sum of repeat products, so past 2^63-1 (an exact decimal
       * string then, as the figures are) when big repeats meet */
      i128 count = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
      if (lua_type(L, -1) == LUA_TSTRING)
        for (const char *d = lua_tostring(L, -1); *d >= '0' && *d <= '9'; d++) count = count * 10 + (*d - '0');
      lua_pop(L, 1);
      lmp_push_i128(L, count + mult);
      lua_setfield(L, w->unknown, n->cls);
      if (show) {
        push_param_table(w, n, vals, 0);
        params = lua_gettop(L);
      }
    } else {
      int64_t *cached = NULL;
      int has_key = push_fast_key(w, n, calc_info(L, calc), vals);
      int key = lua_gettop(L);
      if (has_key) {
        lua_pushvalue(L, key);
        if (lua_rawget(L, w->memo) == LUA_TUSERDATA) cached = lua_touserdata(L, -1);
        else lua_pop(L, 1);
      }
      if (cached == NULL || show) {
        push_param_table(w, n, vals, calc);
        params = lua_gettop(L);
      }
      if (cached == NULL) {
        cached = lua_newuserdatauv(L, sizeof(int64_t) * CF_COUNT, 0);
        lua_pushcfunction(L, protected_compute);
        lua_pushvalue(L, calc);
        lua_pushvalue(L, params);
        lua_pushlightuserdata(L, cached);
        lua_pushboolean(L, w->train);
        if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
          int code = LMP_EXIT_CALC;
          if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "code");
            if (lua_isinteger(L, -1)) code = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
          }
          const char *msg = luaL_tolstring(L, -1, NULL);
          walk_fail(w, n, code, msg);
        }
        w->evaluations++;
        if (has_key) {
          lua_pushvalue(L, key);
          lua_pushvalue(L, -2);
          lua_rawset(L, w->memo);
        }
      }
      basic_figures(w, n, cached, fig);
      if (show) {
        lua_getfield(L, calc, "file");
        lua_setfield(L, tbl, "calculator");
      }
    }
    if (show) {
      lua_pushvalue(L, params);
      lua_setfield(L, tbl, "parameters");
      if (own_unknown) {
        lua_pushboolean(L, 1);
        lua_setfield(L, tbl, "unknown");
      }
      if (n->tied_to) {
        lua_pushstring(L, n->tied_to);
        lua_setfield(L, tbl, "weights_tied_to");
      }
    }
  }
  scale_by_repeat(w, n, fig);
  if (show) {
    if (n->active >= 0 || n->active_f != NULL) {
      lua_pushinteger(L, active_of(w, n));
      lua_setfield(L, tbl, "active");
    }
    set_figures(w, tbl, fig);
    if (own_unknown && n->composite) {
      lua_pushboolean(L, 1);
      lua_setfield(L, tbl, "incomplete");
    }
  }
  *unknown = own_unknown;
  lua_settop(L, show ? tbl : top);
}

/* core.analyze(model, inputs, lookup, opts) -> { totals, tree, unknown_modules, evaluations }
 *   inputs: batch_size, seq_len, kv_len, w_bits, a_bits, kv_bits (integers)
 *   lookup: function(full_class_name) -> calculator object or nil
 *   opts.depth: deepest tree level materialised in the result (default: all) */
static int l_analyze(lua_State *L) {
  Walk w;
  memset(&w, 0, sizeof w);
  w.L = L;
  w.m = lmp_check_model(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  w.max_depth = 1 << 30;
  if (lua_istable(L, 4)) {
    lua_getfield(L, 4, "depth");
    if (lua_isinteger(L, -1)) { /* clamped: (int) of --depth 4294967296 was 0, no rows */
      lua_Integer d = lua_tointeger(L, -1);
      w.max_depth = d < 0 ? 0 : d > w.max_depth ? w.max_depth : (int)d;
    }
    lua_pop(L, 1);
  }
  const char *env_rows = getenv("LMP_MAX_ROWS");
  char *end = NULL;
  size_t max_rows = env_rows && *env_rows ? (size_t)strtoull(env_rows, &end, 10) : 0;
  if (max_rows == 0 || *end != '\0') max_rows = LMP_DEFAULT_MAX_ROWS;
  if (w.max_depth >= 1 && count_rows(w.m->roots, w.m->nroots, 1, w.max_depth, max_rows) > max_rows)
    return lmp_raise(L, LMP_EXIT_USAGE, "more than %zu layers to show (the limit; --depth N shows fewer, LMP_MAX_ROWS raises it)",
                     max_rows);
  for (int i = 0; i < IN_COUNT; i++) {
    lua_getfield(L, 2, INPUT_NAME(i));
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
      return lmp_raise(L, LMP_EXIT_USAGE, "input %s must be an integer >= 0", INPUT_NAME(i));
    w.in[i] = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (__builtin_mul_overflow(w.in[IN_BATCH], w.in[IN_SEQ], &w.tokens))
    return lmp_raise(L, LMP_EXIT_USAGE, "batch_size * seq_len exceeds 2^63-1");
  lua_getfield(L, 2, "phase");
  w.train = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "train") == 0;
  lua_pop(L, 1);
  /* opts.calcs / opts.memo: tables the caller keeps across analyses (lmp.sweep) */
  int has_opts = lua_istable(L, 4);
  lua_settop(L, 4);
  w.lookup = 3;
  static const char *const kept[] = {"calcs", "memo"};
  for (int i = 0; i < 2; i++) {
    if (!has_opts || lua_getfield(L, 4, kept[i]) != LUA_TTABLE) {
      if (has_opts) lua_pop(L, 1);
      lua_newtable(L);
    }
  } /* stack: 4 opts, 5 calcs, 6 memo */
  lua_remove(L, 4); /* 4 calcs, 5 memo */
  w.calcs = 4;
  w.memo = 5;
  lua_newtable(L);
  w.unknown = 6;
  lua_createtable(L, 0, 4); /* result, 7 */
  lua_createtable(L, (int)w.m->nroots, 0); /* tree, 8 */
  i128 total[N_COUNT] = {0};
  int any_unknown = 0;
  for (size_t i = 0; i < w.m->nroots; i++) {
    i128 fig[N_COUNT];
    int unknown = 0;
    int show = w.max_depth >= 1;
    walk_node(&w, &w.m->roots[i], 1, 1, fig, &unknown, show);
    if (show) lua_rawseti(L, 8, (lua_Integer)i + 1);
    add_figures(&w, &w.m->roots[i], total, fig);
    any_unknown |= unknown;
  }
  lua_setfield(L, 7, "tree");
  lua_createtable(L, 0, N_COUNT);
  set_figures(&w, -1, total);
  lua_setfield(L, 7, "totals");
  /* unknown_modules: { {class=, count=}, ... } in class order (sorted in Lua by the caller) */
  lua_newtable(L);
  lua_Integer k = 0;
  lua_pushnil(L);
  while (lua_next(L, w.unknown) != 0) {
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "class");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "count");
    lua_rawseti(L, -4, ++k);
    lua_pop(L, 1);
  }
  lua_setfield(L, 7, "unknown_modules");
  lua_pushinteger(L, w.evaluations);
  lua_setfield(L, 7, "evaluations");
  lua_pushboolean(L, !any_unknown);
  lua_setfield(L, 7, "complete");
  lua_pushvalue(L, 7);
  return 1;
}

int luaopen_lmp_walk(lua_State *L) {
  static const luaL_Reg fns[] = {{"analyze", l_analyze}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
