/* Pricing one basic layer: its parameters evaluated in C (templates over the runtime
 * inputs), the memo key built by merging them with the calculator's sorted parameters, and
 * a Lua table of parameters made only when the calculator must actually run (or the tree
 * shows the layer). Each distinct (class, evaluated parameters) pair is computed once. */
#include <stdio.h>
#include <string.h>

#include "walk.h"

/* Runtime variables for ${...} templates: the inputs, and the byte forms of whole-byte
 * widths. err is formula_eval's buffer. */
static int runtime_lookup(void *ud, int is_ref, const char *name, FValue *out, char *err, size_t errlen) {
  Walk *w = ud;
  memset(out, 0, sizeof *out);
  out->den = 1;
  if (is_ref) {
    snprintf(err, errlen, "{%s}: module references belong in module_db.json formulas, not in model parameters", name);
    return -1;
  }
  for (int i = 0; i < IN_COUNT; i++) {
    if (strcmp(name, LMP_INPUTS[i].name) == 0) {
      out->num = w->in[i];
      w->used |= 1u << i;
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
  size_t used = (size_t)snprintf(err, errlen, "unknown variable '%s' (runtime variables: ", name);
  const char *sep = "";
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < IN_COUNT && used < errlen; i++) {
      const char *v = pass == 0 ? LMP_INPUTS[i].name : LMP_INPUTS[i].bytes_name;
      if (v == NULL) continue;
      used += (size_t)snprintf(err + used, errlen - used, "%s%s", sep, v);
      sep = ", ";
    }
  if (used < errlen) snprintf(err + used, errlen - used, ")");
  return -1;
}

int64_t walk_active(Walk *w, const Node *n) {
  if (n->active_f != NULL) {
    FValue v;
    char err[FORMULA_ERR_SIZE];
    if (formula_eval(n->active_f, runtime_lookup, w, &v, err, sizeof err) != 0)
      walk_fail(w, n, LMP_EXIT_USAGE, "active: formula \"%s\": %s", n->active_src, err);
    if (v.str != NULL || v.den != 1 || v.num < 0 || v.num > n->repeat)
      walk_fail(w, n, LMP_EXIT_USAGE, "active: formula \"%s\" must give an integer from 0 to repeat (%I)", n->active_src,
                (lua_Integer)n->repeat);
    return (int64_t)v.num;
  }
  return n->active >= 0 ? n->active : n->repeat;
}

/* a layer's parameter, its template (if any) evaluated */
typedef struct {
  const char *name;
  ParamKind kind; /* P_FORMULA is evaluated to P_INT */
  int64_t i;
  double d;
  const char *s;
  size_t slen;
} PVal;

static void eval_formula(Walk *w, const Node *n, const Param *p, PVal *v) {
  FValue fv;
  char err[FORMULA_ERR_SIZE];
  if (formula_eval(p->f, runtime_lookup, w, &fv, err, sizeof err) != 0)
    walk_fail(w, n, LMP_EXIT_USAGE, "parameter '%s': formula \"%s\": %s", p->name, formula_source(p->f), err);
  if (fv.str != NULL || fv.den != 1 || fv.num < INT64_MIN || fv.num > INT64_MAX)
    walk_fail(w, n, LMP_EXIT_USAGE, "parameter '%s': formula \"%s\" %s", p->name, formula_source(p->f),
              fv.str ? "gives a string" : fv.den != 1 ? "does not give an integer (use //, ceil or floor)"
                                                      : "gives a value beyond 64 bits");
  v->kind = P_INT;
  v->i = (int64_t)fv.num;
}

static void eval_params(Walk *w, const Node *n, PVal *vals) {
  for (size_t i = 0; i < n->nparams; i++) {
    const Param *p = &n->params[i];
    PVal *v = &vals[i];
    *v = (PVal){.name = p->name, .kind = (ParamKind)p->kind};
    if (p->kind == P_INT || p->kind == P_BOOL) v->i = p->i;
    else if (p->kind == P_NUM) v->d = p->d;
    else if (p->kind == P_STR) { v->s = p->s; v->slen = p->slen; }
    else eval_formula(w, n, p, v);
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

/* The memo key being built: in a local buffer, moved to a growing userdata (left on the
 * stack) when it does not fit. Keys are built for every basic layer of every sweep point. */
typedef struct {
  lua_State *L;
  char *p;
  size_t len, cap;
  char local[256];
} Key;

static void key_grow(Key *k, size_t n) {
  size_t cap = k->cap * 2;
  while (cap < k->len + n) cap *= 2;
  char *p = lua_newuserdatauv(k->L, cap, 0);
  memcpy(p, k->p, k->len);
  k->p = p;
  k->cap = cap;
}

static void key_put(Key *k, const char *s, size_t n) {
  if (k->len + n > k->cap) key_grow(k, n);
  memcpy(k->p + k->len, s, n);
  k->len += n;
}

/* appends "\x1fi<decimal>", in place (no snprintf: this is the hot path) */
static void key_int(Key *k, int64_t v) {
  if (k->len + 22 > k->cap) key_grow(k, 22);
  char *out = k->p + k->len, digits[20];
  int n = 0;
  uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  *out++ = '\x1f';
  *out++ = 'i';
  if (v < 0) *out++ = '-';
  while (n > 0) *out++ = digits[--n];
  k->len = (size_t)(out - k->p);
}

static void key_value(Key *k, const PVal *v) {
  char num[40];
  switch (v->kind) {
    case P_INT: case P_FORMULA: key_int(k, v->i); break;
    case P_BOOL: key_put(k, v->i ? "\x1f" "T" : "\x1f" "F", 2); break;
    case P_NUM: key_put(k, num, (size_t)snprintf(num, sizeof num, "\x1fn%.17g", v->d)); break;
    case P_STR:
      key_put(k, num, (size_t)snprintf(num, sizeof num, "\x1fs%zu:", v->slen));
      key_put(k, v->s, v->slen);
      break;
  }
}

/* Pushes the memo key: the class, the phase's backward flag, then every parameter the
 * calculator takes, in name order. Returns 0 (nothing pushed) when the layer's parameters do
 * not match the calculator's (validation then reports the problem). */
static int push_memo_key(Walk *w, const Node *n, const CalcSpec *spec, const PVal *vals) {
  lua_State *L = w->L;
  int top = lua_gettop(L);
  Key k = {.L = L, .cap = sizeof k.local};
  k.p = k.local;
  key_put(&k, n->cls, strlen(n->cls));
  if (w->train) key_put(&k, "\x1etrain", 6);
  size_t j = 0;
  int ok = 1;
  for (size_t i = 0; ok && i < spec->nparams; i++) {
    const CalcParam *cp = &spec->params[i];
    int cmp = j < n->nparams ? strcmp(cp->name, vals[j].name) : -1;
    if (cmp == 0) key_value(&k, &vals[j++]);
    else if (cmp > 0) ok = 0; /* the layer gives a parameter the calculator does not take */
    else if (cp->input >= 0) key_int(&k, w->in[cp->input]); /* not given: a runtime input, */
    else if (cp->has_key_default) key_int(&k, cp->key_default); /* a default, */
    else ok = 0; /* or missing */
  }
  if (ok && j == n->nparams) lua_pushlstring(L, k.p, k.len);
  if (lua_gettop(L) > top + 1) lua_replace(L, top + 1); /* drop the grown buffers */
  lua_settop(L, ok && j == n->nparams ? top + 1 : top);
  return ok && j == n->nparams;
}

/* the Lua table of parameters: the layer's, plus the runtime inputs the calculator (if any)
 * takes and the layer leaves out */
static void push_param_table(Walk *w, const Node *n, const PVal *vals, const CalcSpec *spec) {
  lua_State *L = w->L;
  lua_createtable(L, 0, (int)n->nparams + 2);
  for (size_t i = 0; i < n->nparams; i++) {
    push_pval(L, &vals[i]);
    lua_setfield(L, -2, vals[i].name);
  }
  if (spec == NULL) return;
  for (int i = 0; i < IN_COUNT; i++) {
    if (!(spec->inputs & (1u << i))) continue;
    if (lua_getfield(L, -1, LMP_INPUTS[i].name) == LUA_TNIL) {
      lua_pushinteger(L, w->in[i]);
      lua_setfield(L, -3, LMP_INPUTS[i].name);
      w->used |= 1u << i; /* the run's value reached a calculator: reported (attention) */
    }
    lua_pop(L, 1);
  }
}

/* Looks up (and caches) the calculator for a class; pushes it, or false when there is none,
 * and returns its spec (NULL for none). */
static const CalcSpec *push_calculator(Walk *w, const Node *n) {
  lua_State *L = w->L;
  if (lua_getfield(L, w->calcs, n->cls) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, w->lookup);
    lua_pushstring(L, n->cls);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) walk_fail(w, n, LMP_EXIT_CALC, "%s", luaL_tolstring(L, -1, NULL));
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushboolean(L, 0);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, w->calcs, n->cls);
  }
  if (!lua_toboolean(L, -1)) return NULL;
  const CalcSpec *spec = calc_spec(L, -1);
  if (spec == NULL) walk_fail(w, n, LMP_EXIT_CALC, "the calculator lookup gave a %s, not a calculator", luaL_typename(L, -1));
  return spec;
}

static int protected_compute(lua_State *L) {
  int64_t *fig = lua_touserdata(L, 3);
  calc_compute(L, 1, 2, lua_toboolean(L, 4), fig);
  return 0;
}

/* Runs the calculator at calc on the parameter table at params; pushes the figures (a
 * userdata of CF_COUNT int64) and returns them. */
static int64_t *call_calculator(Walk *w, const Node *n, int calc, int params) {
  lua_State *L = w->L;
  int64_t *fig = lua_newuserdatauv(L, sizeof(int64_t) * CF_COUNT, 0);
  lua_pushcfunction(L, protected_compute);
  lua_pushvalue(L, calc);
  lua_pushvalue(L, params);
  lua_pushlightuserdata(L, fig);
  lua_pushboolean(L, w->train);
  if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
    int code = lmp_error_code(L, -1);
    walk_fail(w, n, code < 0 ? LMP_EXIT_CALC : code, "%s", luaL_tolstring(L, -1, NULL));
  }
  w->evaluations++;
  return fig;
}

/* The figures of one call of n's calculator, from the memo or by calling it; *params gets
 * the slot of the Lua parameter table when one was made (always when `show`). */
static const int64_t *price(Walk *w, const Node *n, int calc, const CalcSpec *spec, const PVal *vals, int show, int *params) {
  lua_State *L = w->L;
  int64_t *fig = NULL;
  int has_key = push_memo_key(w, n, spec, vals);
  int key = lua_gettop(L);
  if (has_key) {
    lua_pushvalue(L, key);
    if (lua_rawget(L, w->memo) == LUA_TUSERDATA) fig = lua_touserdata(L, -1);
    else lua_pop(L, 1);
  }
  if (fig == NULL || show) {
    push_param_table(w, n, vals, spec);
    *params = lua_gettop(L);
  }
  if (fig == NULL) {
    fig = call_calculator(w, n, calc, *params);
    if (has_key) {
      lua_pushvalue(L, key);
      lua_pushvalue(L, -2);
      lua_rawset(L, w->memo);
    }
  }
  return fig;
}

/* Adam's step over `params` parameters at w_bits: it reads the gradient, the parameter and
 * the moments m and v and writes the parameter and the moments. Below 32 bits (mixed
 * precision) the parameter is an fp32 master copy and the w_bits weights are written from it:
 * 24 bytes of fp32 state a parameter + gradient and weights at w_bits; at 32 bits and more:
 * gradient, parameter read and written at w_bits, 16 bytes of fp32 moments. */
static i128 optimizer_bytes(int64_t params, int64_t w_bits) {
  i128 at_w = ((i128)params * w_bits + 7) / 8; /* whole bytes of one tensor at w_bits */
  if (w_bits < 32) return (i128)params * 24 + 2 * at_w;
  return (i128)params * 16 + 3 * at_w;
}

/* one call's figures -> the figures of one instance of basic layer n */
static void basic_figures(Walk *w, const Node *n, const int64_t c[CF_COUNT], i128 f[N_COUNT]) {
  int64_t params = n->tied_to != NULL ? 0 : c[CF_PARAMS]; /* tied: counted at the owner */
  if (w->train && c[CF_STATE] > 0) {
    /* a layer that holds state is a cache: training runs with use_cache=False */
    for (int i = 0; i < N_COUNT; i++) f[i] = 0;
    f[N_PARAMS] = f[N_ACTIVE_PARAMS] = params;
    return;
  }
  for (int i = 0; i < N_COUNT; i++) {
    const FigureDef *d = &LMP_FIGURES_TABLE[i];
    f[i] = d->call < 0 || (d->train_only && !w->train) ? 0 : c[d->call];
  }
  if (w->train) { /* in training, flops include the backward pass */
    f[N_FLOPS] += c[CF_BWD_FLOPS];
    f[N_MATMUL] += c[CF_BWD_MATMUL];
  }
  f[N_PARAMS] = f[N_ACTIVE_PARAMS] = params;
  f[N_PEAK] = (i128)c[CF_READS] - c[CF_WEIGHTS] + c[CF_WRITES] + c[CF_INTER];
  if (w->train) f[N_OPT_BYTES] = optimizer_bytes(params, w->in[IN_WBITS]);
}

int walk_basic(Walk *w, const Node *n, int64_t instances, i128 fig[N_COUNT], int show, int tbl) {
  lua_State *L = w->L;
  PVal stack_vals[16]; /* most layers have fewer parameters: no allocation then */
  PVal *vals = n->nparams <= 16 ? stack_vals : lua_newuserdatauv(L, n->nparams * sizeof(PVal), 0);
  eval_params(w, n, vals);
  const CalcSpec *spec = push_calculator(w, n);
  int calc = lua_gettop(L), params = 0;
  if (spec == NULL) {
    for (int i = 0; i < N_COUNT; i++) fig[i] = 0;
    result_count_unknown(w, n->cls, instances);
    if (show) {
      push_param_table(w, n, vals, NULL);
      result_set_basic(w, n, tbl, NULL, lua_gettop(L));
    }
    return 1;
  }
  basic_figures(w, n, price(w, n, calc, spec, vals, show, &params), fig);
  if (show) result_set_basic(w, n, tbl, spec, params);
  return 0;
}
