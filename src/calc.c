/* Calculators: loading a modules_lua file into the sandbox, checking its shape, validating
 * parameters before every call (the original's validate_parameters) and every value after,
 * and the checked-integer kernels calculators build on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* ---- kernels: checked int64 arithmetic ---- */

static int64_t karg(lua_State *L, int i, const char *fn) {
  if (!lua_isinteger(L, i)) {
    if (lua_type(L, i) == LUA_TNUMBER)
      return luaL_error(L, "kernels.%s: argument %d is %s, a float; pass integers (use // not /)", fn, i,
                        lua_tostring(L, i)), 0;
    return luaL_error(L, "kernels.%s: argument %d is %s, not an integer", fn, i, luaL_typename(L, i)), 0;
  }
  int64_t v = lua_tointeger(L, i);
  if (v < 0) return luaL_error(L, "kernels.%s: argument %d is negative (%I)", fn, i, (lua_Integer)v), 0;
  return v;
}

static int overflow(lua_State *L, const char *fn) {
  return luaL_error(L, "kernels.%s: integer overflow (result beyond 2^63-1)", fn);
}

static int k_mul(lua_State *L) {
  int n = lua_gettop(L);
  int64_t acc = 1;
  for (int i = 1; i <= n; i++)
    if (__builtin_mul_overflow(acc, karg(L, i, "mul"), &acc)) return overflow(L, "mul");
  lua_pushinteger(L, acc);
  return 1;
}

static int k_add(lua_State *L) {
  int n = lua_gettop(L);
  int64_t acc = 0;
  for (int i = 1; i <= n; i++)
    if (__builtin_add_overflow(acc, karg(L, i, "add"), &acc)) return overflow(L, "add");
  lua_pushinteger(L, acc);
  return 1;
}

static int k_matmul(lua_State *L) {
  luaL_argcheck(L, lua_gettop(L) == 3, 1, "kernels.matmul takes m, k, n");
  int64_t m = karg(L, 1, "matmul"), k = karg(L, 2, "matmul"), n = karg(L, 3, "matmul"), r;
  if (__builtin_mul_overflow(m, k, &r) || __builtin_mul_overflow(r, n, &r) || __builtin_mul_overflow(r, 2, &r))
    return overflow(L, "matmul");
  lua_pushinteger(L, r);
  return 1;
}

static int k_elementwise(lua_State *L) {
  int64_t n = karg(L, 1, "elementwise"), c = karg(L, 2, "elementwise"), r;
  if (__builtin_mul_overflow(n, c, &r)) return overflow(L, "elementwise");
  lua_pushinteger(L, r);
  return 1;
}

static int k_bytes(lua_State *L) {
  int64_t n = karg(L, 1, "bytes"), bits = karg(L, 2, "bytes");
  i128 b = ((i128)n * bits + 7) / 8;
  if (b > INT64_MAX) return overflow(L, "bytes");
  lua_pushinteger(L, (lua_Integer)b);
  return 1;
}

static int k_conv_out(lua_State *L) {
  int64_t len = karg(L, 1, "conv_out"), k = karg(L, 2, "conv_out"), s = karg(L, 3, "conv_out");
  int64_t p = karg(L, 4, "conv_out"), d = karg(L, 5, "conv_out");
  if (s == 0) return luaL_error(L, "kernels.conv_out: stride must be >= 1");
  if (k == 0 || d == 0) return luaL_error(L, "kernels.conv_out: kernel size and dilation must be >= 1");
  i128 span = (i128)len + 2 * (i128)p - (i128)d * (k - 1) - 1;
  if (span < 0)
    return luaL_error(L, "kernels.conv_out: input of length %I with padding %I is smaller than the dilated kernel (%I)",
                      (lua_Integer)len, (lua_Integer)p, (lua_Integer)(d * (k - 1) + 1));
  if (span / s + 1 > INT64_MAX) return overflow(L, "conv_out"); /* (the int128 cannot wrap: each term < 2^126) */
  lua_pushinteger(L, (lua_Integer)(span / s + 1));
  return 1;
}

/* The one table of per-element costs (docs/calculators.md explains each). */
static const struct { const char *op; int cost; } COSTS[] = {
    {"add", 1},     {"mul", 1},       {"scale", 1},     {"mask", 1},   {"relu", 1},      {"tanh", 1},
    {"sigmoid", 3}, {"silu", 4},      {"gelu", 5},      {"gelu_tanh", 9}, {"softmax", 5}, {"layernorm", 5},
    {"rmsnorm", 3}, {"rotary", 3},    {"dropout", 0},   {"embedding", 0}};

/* Backward FLOPs per element (docs/calculators.md derives each). */
static const struct { const char *op; int cost; } BACKWARD_COSTS[] = {
    {"add", 1},     {"mul", 2},        {"scale", 1},   {"mask", 0},      {"dropout", 0},  {"relu", 1},
    {"tanh", 3},    {"sigmoid", 3},    {"silu", 8},    {"gelu", 11},     {"gelu_tanh", 19}, {"softmax", 4},
    {"layernorm", 8}, {"rmsnorm", 6},  {"rotary", 3},  {"embedding", 1}};

static void push_kernels(lua_State *L) {
  static const luaL_Reg fns[] = {{"matmul", k_matmul}, {"elementwise", k_elementwise}, {"bytes", k_bytes},
                                 {"mul", k_mul},       {"add", k_add},                 {"conv_out", k_conv_out},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_newtable(L);
  for (size_t i = 0; i < sizeof COSTS / sizeof COSTS[0]; i++) {
    lua_pushinteger(L, COSTS[i].cost);
    lua_setfield(L, -2, COSTS[i].op);
  }
  lua_setfield(L, -2, "COST");
  lua_newtable(L);
  for (size_t i = 0; i < sizeof BACKWARD_COSTS / sizeof BACKWARD_COSTS[0]; i++) {
    lua_pushinteger(L, BACKWARD_COSTS[i].cost);
    lua_setfield(L, -2, BACKWARD_COSTS[i].op);
  }
  lua_setfield(L, -2, "BACKWARD_COST");
}

/* ---- loading ---- */

static const char *const FUNCTIONS[] = {"required_parameters", "flops", "matmul_flops", "params", "memory"};
static const char *const TYPES[] = {"int", "posint", "bool", "string", "number", NULL};

/* The fields of the spec at -1 (min, max, values, default) must fit its type, so that what
 * `lmp module check` accepts is what validate and `lmp module show` can use. */
static void check_spec_fields(lua_State *L, const char *file, const char *name, const char *type) {
  int is_int = strcmp(type, "int") == 0 || strcmp(type, "posint") == 0, is_num = strcmp(type, "number") == 0;
  static const char *const bounds[] = {"min", "max"};
  for (int i = 0; i < 2; i++) {
    int t = lua_getfield(L, -1, bounds[i]);
    int ok = t == LUA_TNIL || ((is_int && lua_isinteger(L, -1)) || (is_num && t == LUA_TNUMBER));
    lua_pop(L, 1);
    if (!ok)
      lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters: '%s': %s must be %s", file, name, bounds[i],
                is_int ? "an integer" : is_num ? "a number" : "absent for this type");
  }
  if (lua_getfield(L, -1, "values") != LUA_TNIL) {
    int ok = strcmp(type, "string") == 0 && lua_istable(L, -1) && lua_rawlen(L, -1) > 0;
    for (lua_Integer k = 1; ok && k <= (lua_Integer)lua_rawlen(L, -1); k++) {
      ok = lua_rawgeti(L, -1, k) == LUA_TSTRING;
      lua_pop(L, 1);
    }
    if (!ok)
      lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters: '%s': values must be a non-empty list of strings, on a string parameter",
                file, name);
  }
  lua_pop(L, 1);
  int t = lua_getfield(L, -1, "default");
  int ok = t == LUA_TNIL || (is_int && lua_isinteger(L, -1)) || (is_num && t == LUA_TNUMBER) ||
           (strcmp(type, "bool") == 0 && t == LUA_TBOOLEAN) || (strcmp(type, "string") == 0 && t == LUA_TSTRING);
  lua_pop(L, 1);
  if (!ok) lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters: '%s': default must be a %s value", file, name, type);
}

/* Normalises one required_parameters entry (value at -1) into {type=, min=, max=, values=}. */
static void normalise_spec(lua_State *L, const char *file, const char *name) {
  lua_newtable(L); /* spec */
  const char *type = NULL;
  if (lua_type(L, -2) == LUA_TSTRING) {
    type = lua_tostring(L, -2);
  } else if (lua_istable(L, -2)) {
    /* a string only: lua_tostring would turn a number into a new string, unanchored once popped */
    if (lua_getfield(L, -2, "type") == LUA_TSTRING) type = lua_tostring(L, -1); /* the spec table keeps it */
    lua_pop(L, 1);
    static const char *const extra[] = {"min", "max", "values", "default"};
    for (int i = 0; i < 4; i++) {
      lua_getfield(L, -2, extra[i]);
      lua_setfield(L, -2, extra[i]);
    }
  }
  int ok = 0;
  for (const char *const *t = TYPES; type && *t; t++)
    if (strcmp(type, *t) == 0) ok = 1;
  if (!ok)
    lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters: '%s' has type %s; expected \"int\", \"posint\", \"bool\", \"string\", \"number\" or {type=..., min=, max=, values=}",
              file, name, type ? type : luaL_typename(L, -2));
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "declared"); /* as the calculator wrote it, for get_required_parameters */
  check_spec_fields(L, file, name, type);
  if (strcmp(type, "posint") == 0) {
    lua_pushstring(L, "int");
    lua_setfield(L, -2, "type");
    lua_getfield(L, -1, "min");
    if (lua_isnil(L, -1)) {
      lua_pushinteger(L, 1);
      lua_setfield(L, -3, "min");
    }
    lua_pop(L, 1);
  }
}

static int by_string(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int make_calculator(lua_State *L, int file_idx, int impl);

/* load_chunk(text, len, chunkname) -> the compiled chunk. Called with lua_pcall and no
 * message handler: deep nesting makes the parser raise "C stack overflow" as a runtime
 * error, which lua_load would pass through the caller's handler (main.c's adds a
 * traceback) before returning it. */
static int load_chunk(lua_State *L) {
  const char *text = lua_touserdata(L, 1);
  if (luaL_loadbufferx(L, text, (size_t)lua_tointeger(L, 2), lua_tostring(L, 3), "t") != LUA_OK) return lua_error(L);
  return 1;
}

/* core.load_calculator(path [, source]) -> calculator object
 *   { file=, full_class_name=, impl=<the script's table>, required={name -> spec}, names={sorted} } */
static int l_load_calculator(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  char *text = NULL;
  size_t len;
  char err[600];
  if (lua_isnoneornil(L, 2)) {
    lmp_read_file(L, file, &text, &len);
  }
  lua_settop(L, 2);
  char chunk[600];
  snprintf(chunk, sizeof chunk, "@%s", file);
  const char *src = text ? text : luaL_checkstring(L, 2);
  if (!text) len = lua_rawlen(L, 2);
  lua_pushcfunction(L, load_chunk);
  lua_pushlightuserdata(L, (void *)src);
  lua_pushinteger(L, (lua_Integer)len);
  lua_pushstring(L, chunk);
  int rc = lua_pcall(L, 3, 1, 0);
  lmp_file_free(text);
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    size_t flen = strlen(file);
    int named = strncmp(msg, file, flen) == 0 && msg[flen] == ':'; /* "C stack overflow" names no file */
    snprintf(err, sizeof err, "%s%s%s", named ? "" : file, named ? "" : ": ", msg);
    return lmp_raise(L, LMP_EXIT_CALC, "%s", err);
  }
  sandbox_push_env(L);
  lua_setupvalue(L, -2, 1); /* _ENV */
  snprintf(err, sizeof err, "%s", file);
  if (sandbox_pcall(L, 0, 1, err) != LUA_OK) return lua_error(L);
  if (!lua_istable(L, -1))
    return lmp_raise(L, LMP_EXIT_CALC, "%s: a calculator must return a table, not %s", file, luaL_typename(L, -1));
  sandbox_register(L, -1, file);
  return make_calculator(L, 1, lua_gettop(L));
}

/* Builds the calculator object around the table at impl; file_idx names it in errors. */
static int make_calculator(lua_State *L, int file_idx, int impl) {
  const char *file = lua_tostring(L, file_idx);
  char err[600];
  lua_newtable(L);
  int obj = lua_gettop(L);
  lua_pushvalue(L, file_idx);
  lua_setfield(L, obj, "file");
  lua_pushvalue(L, impl);
  lua_setfield(L, obj, "impl");
  lua_getfield(L, impl, "full_class_name");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    return lmp_raise(L, LMP_EXIT_CALC, "%s: the table needs full_class_name, a string such as \"torch.nn.modules.linear.Linear\"", file);
  lua_setfield(L, obj, "full_class_name");
  /* { full_class_name = X, same_as = Y }: X is priced by Y's calculator (the registry
   * resolves it); such a file has nothing else */
  if (lua_getfield(L, impl, "same_as") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      return lmp_raise(L, LMP_EXIT_CALC, "%s: same_as must be the full class name of another calculator", file);
    lua_setfield(L, obj, "same_as");
    lua_pushvalue(L, obj);
    return 1;
  }
  lua_pop(L, 1);
  for (size_t i = 0; i < sizeof FUNCTIONS / sizeof FUNCTIONS[0]; i++) {
    lua_getfield(L, impl, FUNCTIONS[i]);
    if (lua_type(L, -1) != LUA_TFUNCTION)
      return lmp_raise(L, LMP_EXIT_CALC, "%s: %s must be a function, got %s", file, FUNCTIONS[i], luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  /* required_parameters, normalised */
  lua_getfield(L, impl, "required_parameters");
  snprintf(err, sizeof err, "%s: required_parameters", file);
  if (sandbox_pcall(L, 0, 1, err) != LUA_OK) return lua_error(L);
  if (!lua_istable(L, -1))
    return lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters must return a table, got %s", file, luaL_typename(L, -1));
  int raw = lua_gettop(L);
  lua_newtable(L); /* required */
  int required = raw + 1;
  const char *names[512];
  int nnames = 0;
  lua_pushnil(L);
  while (lua_next(L, raw) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters keys must be parameter names", file);
    if (nnames == 512) return lmp_raise(L, LMP_EXIT_CALC, "%s: more than 512 parameters", file);
    const char *name = lua_tostring(L, -2);
    normalise_spec(L, file, name);
    lua_pushvalue(L, -3);
    lua_insert(L, -2);
    lua_rawset(L, required); /* required[name] = spec; the key stays anchored there */
    names[nnames++] = name;
    lua_pop(L, 1);
  }
  qsort(names, (size_t)nnames, sizeof names[0], by_string);
  lua_createtable(L, nnames, 0);
  for (int i = 0; i < nnames; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, obj, "names");
  lua_setfield(L, obj, "required");
  lua_pop(L, 1); /* raw */
  lua_pushvalue(L, obj);
  return 1;
}

/* core.calculator_from_table(name, table) -> calculator object, for a calculator defined in
 * a script (lmp.register): the same checks as a file's; its functions run under the same
 * instruction budget and memory cap. */
static int l_calculator_from_table(lua_State *L) {
  luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  return make_calculator(L, 1, 2);
}

/* ---- validation and calls ---- */

/* Describes the value at idx for error messages ("the float 1.5", "a string"). */
static const char *describe_value(lua_State *L, int idx, char *buf, size_t len) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    if (lua_isinteger(L, idx)) snprintf(buf, len, "%lld", (long long)lua_tointeger(L, idx));
    else snprintf(buf, len, "the float %.17g", lua_tonumber(L, idx));
  } else if (lua_type(L, idx) == LUA_TSTRING) {
    snprintf(buf, len, "the string \"%.40s\"", lua_tostring(L, idx));
  } else {
    snprintf(buf, len, "a %s", luaL_typename(L, idx));
  }
  return buf;
}

/* A calculator's parameter specs in C, built once (validate runs before every calculator
 * call: for a sweep, tens of thousands of times) and kept in the object as "_specs". */
typedef struct {
  const char *name; /* anchored by the calculator's `names` table */
  char type;        /* 'i'nt, 'b'ool, 'n'umber, 's'tring */
  int has_max, has_values, has_default;
  int64_t min, max;
} PSpec;

typedef struct {
  size_t n;
  PSpec s[];
} PSpecs;

static const PSpecs *specs_of(lua_State *L, int calc) {
  if (lua_getfield(L, calc, "_specs") == LUA_TUSERDATA) {
    const PSpecs *ps = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return ps;
  }
  lua_pop(L, 1);
  lua_getfield(L, calc, "names");
  lua_getfield(L, calc, "required");
  size_t n = (size_t)lua_rawlen(L, -2);
  PSpecs *ps = lua_newuserdatauv(L, sizeof(PSpecs) + n * sizeof(PSpec), 0);
  ps->n = n;
  for (size_t i = 0; i < n; i++) {
    PSpec *sp = &ps->s[i];
    lua_rawgeti(L, -3, (lua_Integer)i + 1);
    sp->name = lua_tostring(L, -1);
    lua_getfield(L, -3, sp->name); /* the normalised spec */
    lua_getfield(L, -1, "type");
    sp->type = lua_tostring(L, -1)[0];
    lua_getfield(L, -2, "min");
    sp->min = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
    lua_getfield(L, -3, "max");
    sp->has_max = lua_isinteger(L, -1);
    sp->max = sp->has_max ? lua_tointeger(L, -1) : 0;
    sp->has_values = lua_getfield(L, -4, "values") == LUA_TTABLE;
    sp->has_default = lua_getfield(L, -5, "default") != LUA_TNIL;
    lua_pop(L, 7);
  }
  lua_setfield(L, calc, "_specs"); /* the userdata */
  lua_pop(L, 2);
  return ps;
}

/* Levenshtein distance of a and b, for "did you mean"; names past 63 bytes count as far. */
static size_t edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b), row[64];
  if (n > 63 || m > 63) return 64;
  for (size_t j = 0; j <= m; j++) row[j] = j;
  for (size_t i = 1; i <= n; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = row[j];
      row[j] = best;
    }
  }
  return row[m];
}

/* Raises the error for a parameter the calculator does not take: the nearest names it takes
 * (edit distance at most a third of the name's length, and at least 2), else all of them. */
static void unknown_parameter(lua_State *L, const PSpecs *ps, const char *file, const char *name) {
  size_t best = 64, limit = strlen(name) / 3 < 2 ? 2 : strlen(name) / 3;
  for (size_t i = 0; i < ps->n; i++) {
    size_t d = edit_distance(name, ps->s[i].name);
    if (d < best) best = d;
  }
  int near = best <= limit;
  char list[600] = "";
  for (size_t i = 0; i < ps->n; i++) {
    if (near && edit_distance(name, ps->s[i].name) != best) continue;
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s'%s'", used ? ", " : "", ps->s[i].name);
  }
  if (near) lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' is not one %s takes; did you mean %s?", name, file, list);
  lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' is not one %s takes (it takes %s)", name, file, list);
}

/* Checks params (at index p) against calc's parameter specs, in name order; raises an
 * lmp.Error naming every missing parameter, or the first bad one. Optional parameters
 * ({ ..., default = v }) that are absent take their default. */
static void validate(lua_State *L, int calc, int p) {
  const PSpecs *ps = specs_of(L, calc);
  lua_getfield(L, calc, "file");
  const char *file = lua_tostring(L, -1);
  char missing[600] = "", desc[96];
  int nmissing = 0;
  size_t present = 0;
  for (size_t i = 0; i < ps->n; i++) {
    const PSpec *sp = &ps->s[i];
    if (lua_getfield(L, p, sp->name) == LUA_TNIL) {
      lua_pop(L, 1);
      if (sp->has_default) {
        lua_getfield(L, calc, "required");
        lua_getfield(L, -1, sp->name);
        lua_getfield(L, -1, "default");
        lua_setfield(L, p, sp->name);
        lua_pop(L, 2);
        lua_getfield(L, p, sp->name);
      } else {
        size_t used = strlen(missing);
        snprintf(missing + used, sizeof missing - used, "%s'%s'", nmissing ? ", " : "", sp->name);
        nmissing++;
        continue;
      }
    }
    present++;
    int v = lua_gettop(L);
    const char *name = sp->name;
    switch (sp->type) {
      case 'i': {
        if (!lua_isinteger(L, v))
          lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be an integer, got %s", name, describe_value(L, v, desc, sizeof desc));
        lua_Integer x = lua_tointeger(L, v);
        if (x < sp->min) lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be >= %lld, got %lld", name, (long long)sp->min, (long long)x);
        if (sp->has_max && x > sp->max)
          lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be <= %lld, got %lld", name, (long long)sp->max, (long long)x);
        break;
      }
      case 'b':
        if (!lua_isboolean(L, v))
          lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be true or false, got %s", name, describe_value(L, v, desc, sizeof desc));
        break;
      case 'n':
        if (lua_type(L, v) != LUA_TNUMBER)
          lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be a number, got %s", name, describe_value(L, v, desc, sizeof desc));
        break;
      default: /* string */
        if (lua_type(L, v) != LUA_TSTRING)
          lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be a string, got %s", name, describe_value(L, v, desc, sizeof desc));
        if (sp->has_values) {
          lua_getfield(L, calc, "required");
          lua_getfield(L, -1, name);
          lua_getfield(L, -1, "values");
          int found = 0;
          for (lua_Integer k = 1; !found && lua_rawgeti(L, -1, k) != LUA_TNIL; k++) {
            found = lua_rawequal(L, -1, v);
            lua_pop(L, 1);
          }
          if (!found) lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' is \"%s\", not one of the allowed values", name, lua_tostring(L, v));
        }
        break;
    }
    lua_settop(L, v - 1);
  }
  /* a parameter the calculator does not take is almost always a typo (of a missing one,
   * so it is named first): count first, and look for the stranger only when there is one */
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, p) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) lmp_raise(L, LMP_EXIT_USAGE, "parameter names must be strings");
    count++;
  }
  if (count > present) {
    lua_getfield(L, calc, "required");
    int required = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, p) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, required) == LUA_TNIL) unknown_parameter(L, ps, file, lua_tostring(L, -2));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (nmissing)
    lmp_raise(L, LMP_EXIT_USAGE, "missing parameter%s %s for %s", nmissing > 1 ? "s" : "", missing, file);
  lua_pop(L, 1); /* file */
}

static int64_t checked_result(lua_State *L, int idx, const char *file, const char *what) {
  if (!lua_isinteger(L, idx)) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      lmp_raise(L, LMP_EXIT_CALC, "%s: %s returned %s, a float; calculators return integers (use // or kernels.bytes)",
                file, what, lua_tostring(L, idx));
    lmp_raise(L, LMP_EXIT_CALC, "%s: %s returned %s, not an integer", file, what, luaL_typename(L, idx));
  }
  int64_t v = lua_tointeger(L, idx);
  if (v < 0) lmp_raise(L, LMP_EXIT_CALC, "%s: %s returned %lld, a negative value", file, what, (long long)v);
  return v;
}

/* Runs inside one sandboxed call (one hook, one memory cap, one copy of the parameters):
 * arguments impl, params, then function names; calls impl[name](params) for each and
 * returns the results in that order (nil for an absent function). An error is prefixed
 * with the function's name; a refused allocation is passed on untouched. */
static int run_functions(lua_State *L) {
  int n = lua_gettop(L) - 2;
  luaL_checkstack(L, n + 4, "calculator call");
  for (int i = 0; i < n; i++) {
    const char *name = lua_tostring(L, 3 + i);
    if (lua_getfield(L, 1, name) != LUA_TFUNCTION) {
      lua_pop(L, 1);
      lua_pushnil(L);
      continue;
    }
    lua_pushvalue(L, 2);
    int st = lua_pcall(L, 1, 1, 0);
    if (st == LUA_ERRMEM) return lua_error(L);
    if (st != LUA_OK) {
      const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : luaL_tolstring(L, -1, NULL);
      return luaL_error(L, "%s: %s", name, msg);
    }
  }
  return n;
}

/* Calls the named functions of calc on a copy of params (at p) in the sandbox; leaves n
 * results on the stack. */
static void call_functions(lua_State *L, int calc, int p, const char *file, const char *const *names, int n) {
  lua_pushcfunction(L, run_functions);
  lua_getfield(L, calc, "impl");
  lua_newtable(L); /* the calculator gets a copy so it cannot change the caller's table */
  lua_pushnil(L);
  while (lua_next(L, p) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  for (int i = 0; i < n; i++) lua_pushstring(L, names[i]);
  if (sandbox_pcall(L, n + 2, n, file) != LUA_OK) lua_error(L);
}

static int has_function(lua_State *L, int calc, const char *fname) {
  lua_getfield(L, calc, "impl");
  lua_getfield(L, -1, fname);
  int yes = lua_type(L, -1) == LUA_TFUNCTION;
  lua_pop(L, 2);
  return yes;
}

int calc_compute(lua_State *L, int calc, int p, int want_backward, int64_t out[CF_COUNT]) {
  calc = lua_absindex(L, calc);
  p = lua_absindex(L, p);
  luaL_checkstack(L, 24, "calculator call");
  validate(L, calc, p);
  lua_getfield(L, calc, "file");
  const char *file = lua_tostring(L, -1);
  if (want_backward && !has_function(L, calc, "backward"))
    lmp_raise(L, LMP_EXIT_CALC, "%s: has no backward(), which --phase train needs", file);
  static const char *const names[] = {"flops", "matmul_flops", "params", "memory", "state", "backward"};
  int n = want_backward ? 6 : 5;
  call_functions(L, calc, p, file, names, n);
  int base = lua_gettop(L) - n; /* results at base+1 .. base+n */
  static const char *const scalar[] = {"flops()", "matmul_flops()", "params()"};
  for (int i = 0; i < 3; i++) out[i] = checked_result(L, base + 1 + i, file, scalar[i]);
  int mem = base + 4;
  if (!lua_istable(L, mem))
    lmp_raise(L, LMP_EXIT_CALC, "%s: memory() must return {reads=, writes=, intermediates=}, got %s", file, luaL_typename(L, mem));
  static const char *const fields[] = {"reads", "writes", "intermediates"};
  static const char *const what[] = {"memory().reads", "memory().writes", "memory().intermediates"};
  for (int i = 0; i < 3; i++) {
    lua_getfield(L, mem, fields[i]);
    out[CF_READS + i] = checked_result(L, -1, file, what[i]);
    lua_pop(L, 1);
  }
  /* weights: the part of reads that is weights; a layer with weights must say */
  if (lua_getfield(L, mem, "weights") == LUA_TNIL) {
    if (out[CF_PARAMS] > 0)
      lmp_raise(L, LMP_EXIT_CALC, "%s: memory() must give weights (bytes of weights among reads) for a layer with parameters", file);
    out[CF_WEIGHTS] = 0;
  } else {
    out[CF_WEIGHTS] = checked_result(L, -1, file, "memory().weights");
  }
  lua_pop(L, 1);
  if (out[CF_WEIGHTS] > out[CF_READS])
    lmp_raise(L, LMP_EXIT_CALC, "%s: memory().weights (%lld) is larger than reads (%lld)", file,
              (long long)out[CF_WEIGHTS], (long long)out[CF_READS]);
  out[CF_STATE] = lua_isnil(L, base + 5) ? 0 : checked_result(L, base + 5, file, "state()");
  out[CF_BWD_FLOPS] = out[CF_BWD_MATMUL] = 0;
  if (want_backward) {
    int bwd = base + 6;
    if (!lua_istable(L, bwd))
      lmp_raise(L, LMP_EXIT_CALC, "%s: backward() must return {flops=, matmul_flops=}, got %s", file, luaL_typename(L, bwd));
    lua_getfield(L, bwd, "flops");
    out[CF_BWD_FLOPS] = checked_result(L, -1, file, "backward().flops");
    lua_getfield(L, bwd, "matmul_flops");
    out[CF_BWD_MATMUL] = checked_result(L, -1, file, "backward().matmul_flops");
    lua_pop(L, 2);
    if (out[CF_BWD_MATMUL] > out[CF_BWD_FLOPS])
      lmp_raise(L, LMP_EXIT_CALC, "%s: backward matmul_flops (%lld) is larger than backward flops (%lld)", file,
                (long long)out[CF_BWD_MATMUL], (long long)out[CF_BWD_FLOPS]);
  }
  lua_settop(L, base - 1); /* drop the results and file */
  if (out[CF_MATMUL] > out[CF_FLOPS])
    lmp_raise(L, LMP_EXIT_CALC, "%s: matmul_flops (%lld) is larger than flops (%lld); flops must include the matmul share",
              file, (long long)out[CF_MATMUL], (long long)out[CF_FLOPS]);
  return 0;
}

/* core.compute(calc, params [, want_backward]) -> { flops=, matmul_flops=, params=, reads=, writes=,
 *   intermediates=, weights=, state=, backward_flops=, backward_matmul_flops= } */
static int l_compute(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  int want_backward = lua_toboolean(L, 3);
  lua_settop(L, 2);
  int64_t fig[CF_COUNT];
  calc_compute(L, 1, 2, want_backward, fig);
  lua_createtable(L, 0, CF_COUNT);
  for (int i = 0; i < CF_COUNT; i++) {
    lua_pushinteger(L, fig[i]);
    lua_setfield(L, -2, LMP_CALL_FIGURES[i].name);
  }
  return 1;
}

/* core.call_calculator(calc, fname, params): one raw sandboxed call, result unchecked
 * (for sample_parameters and tests). */
static int l_call_calculator(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *fname = luaL_checkstring(L, 2);
  if (lua_isnoneornil(L, 3)) { lua_newtable(L); lua_replace(L, 3); }
  lua_settop(L, 3);
  lua_getfield(L, 1, "file");
  const char *file = lua_tostring(L, -1);
  lua_getfield(L, 1, "impl");
  lua_getfield(L, -1, fname);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pushnil(L);
    return 1;
  }
  lua_remove(L, -2);
  lua_pushvalue(L, 3);
  char what[600];
  snprintf(what, sizeof what, "%s: %s", file, fname);
  if (sandbox_pcall(L, 1, 1, what) != LUA_OK) return lua_error(L);
  return 1;
}

int luaopen_lmp_calc(lua_State *L) {
  static const luaL_Reg fns[] = {{"load_calculator", l_load_calculator}, {"compute", l_compute},
                                 {"calculator_from_table", l_calculator_from_table},
                                 {"call_calculator", l_call_calculator}, {NULL, NULL}};
  push_kernels(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "lmp.kernels");
  luaL_newlib(L, fns);
  lua_insert(L, -2);
  lua_setfield(L, -2, "kernels");
  return 1;
}
