/* Calculators: loading a modules_lua file into the sandbox, checking its shape, validating
 * parameters before every call (the original's validate_parameters) and every value after.
 * The kernels they build on are in kernels.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* ---- loading ---- */

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

/* ---- the calculator object ----
 * A userdata holding the CalcSpec C reads. Its user values: 1, the fields Lua reads (file,
 * full_class_name, impl, names, required, same_as), which its own metatable's __index also
 * is (so the REPL completes them); 2, the CalcParam array (a userdata an alias shares, whose
 * own user values are the names it points to and the `required` table validation reads);
 * 3 and 4, the file and full_class_name strings. C reads only what no script can reach:
 * changing the fields may break a call, but never leaves C with a dangling pointer. */

static const char CALC_MARK = 0; /* its address marks a calculator's metatable */
_Static_assert(IN_COUNT <= 32, "CalcSpec.inputs is a 32-bit mask of runtime inputs");

const CalcSpec *calc_spec(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
  int yes = lua_rawgetp(L, -1, &CALC_MARK) == LUA_TBOOLEAN;
  lua_pop(L, 2);
  return yes ? lua_touserdata(L, idx) : NULL;
}

static const CalcSpec *check_calculator(lua_State *L, int idx) {
  const CalcSpec *spec = calc_spec(L, idx);
  if (spec == NULL) luaL_typeerror(L, idx, LMP_CALCULATOR);
  return spec;
}

/* pushes field `name` of the calculator at idx */
static int push_field(lua_State *L, int idx, const char *name) {
  lua_getiuservalue(L, idx, 1);
  int t = lua_getfield(L, -1, name);
  lua_remove(L, -2);
  return t;
}

/* pushes the normalised spec of the calculator's parameter `name` */
static void push_param_spec(lua_State *L, int calc, const char *name) {
  lua_getiuservalue(L, calc, 2);
  lua_getiuservalue(L, -1, 2); /* required, as made */
  lua_getfield(L, -1, name);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

static int calc_tostring(lua_State *L) {
  const CalcSpec *spec = check_calculator(L, 1);
  lua_pushfstring(L, LMP_CALCULATOR ": %s (%s)", spec->full_class_name, spec->file);
  return 1;
}

/* Makes the object from the fields table at -2 and the parameter array userdata at -1
 * (both popped); pushes it. */
static CalcSpec *push_object(lua_State *L) {
  int fields = lua_absindex(L, -2), params = fields + 1;
  CalcSpec *spec = lua_newuserdatauv(L, sizeof *spec, 4);
  lua_getfield(L, fields, "file");
  spec->file = lua_tostring(L, -1);
  lua_setiuservalue(L, -2, 3);
  lua_getfield(L, fields, "full_class_name");
  spec->full_class_name = lua_tostring(L, -1);
  lua_setiuservalue(L, -2, 4);
  spec->nparams = lua_rawlen(L, params) / sizeof(CalcParam);
  spec->params = lua_touserdata(L, params);
  spec->inputs = 0;
  spec->unresolved = 0;
  for (size_t i = 0; i < spec->nparams; i++)
    if (spec->params[i].input >= 0) spec->inputs |= 1u << spec->params[i].input;
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, fields);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, LMP_CALCULATOR);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, calc_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 1);
  lua_rawsetp(L, -2, &CALC_MARK);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, fields);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, params);
  lua_setiuservalue(L, -2, 2);
  lua_replace(L, fields);
  lua_settop(L, fields);
  return spec;
}

/* One parameter's CalcParam from its normalised spec (at -1). */
static void fill_param(lua_State *L, CalcParam *cp, const char *name) {
  cp->name = name;
  lua_getfield(L, -1, "type");
  cp->type = lua_tostring(L, -1)[0];
  lua_getfield(L, -2, "min");
  cp->min = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
  lua_getfield(L, -3, "max");
  cp->has_max = (uint8_t)lua_isinteger(L, -1);
  cp->max = cp->has_max ? lua_tointeger(L, -1) : 0;
  cp->has_values = lua_getfield(L, -4, "values") == LUA_TTABLE;
  int t = lua_getfield(L, -5, "default");
  cp->has_default = t != LUA_TNIL;
  cp->has_key_default = t == LUA_TBOOLEAN || lua_isinteger(L, -1);
  cp->key_default = t == LUA_TBOOLEAN ? lua_toboolean(L, -1) : lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
  cp->input = (int8_t)lmp_input_index(name);
  lua_pop(L, 5);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const CalcParam *)a)->name, ((const CalcParam *)b)->name);
}

/* Calls required_parameters and sets fields.names (sorted), fields.required (normalised)
 * and pushes the CalcParam array. */
static void push_params(lua_State *L, int impl, int fields, const char *file) {
  int top = lua_gettop(L);
  const char *what = lua_pushfstring(L, "%s: required_parameters", file);
  lua_getfield(L, impl, "required_parameters");
  if (sandbox_pcall(L, 0, 1, what) != LUA_OK) lua_error(L);
  if (!lua_istable(L, -1))
    lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters must return a table, got %s", file, luaL_typename(L, -1));
  int raw = lua_gettop(L);
  lua_newtable(L);
  int required = raw + 1;
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, raw) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      lmp_raise(L, LMP_EXIT_CALC, "%s: required_parameters keys must be parameter names", file);
    if (n == LMP_MAX_CALC_PARAMS) lmp_raise(L, LMP_EXIT_CALC, "%s: more than %d parameters", file, LMP_MAX_CALC_PARAMS);
    normalise_spec(L, file, lua_tostring(L, -2));
    lua_pushvalue(L, -3);
    lua_insert(L, -2);
    lua_rawset(L, required); /* required[name] = spec; the key stays anchored there */
    lua_pop(L, 1);
    n++;
  }
  CalcParam *cp = lua_newuserdatauv(L, n * sizeof *cp, 2);
  lua_createtable(L, (int)n, 0); /* the names cp points to, anchored by cp */
  size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, required) != 0) {
    fill_param(L, &cp[i++], lua_tostring(L, -2));
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)i);
  }
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, required);
  lua_setiuservalue(L, -2, 2);
  qsort(cp, n, sizeof *cp, by_name);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, cp[i].name);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, fields, "names");
  lua_pushvalue(L, required);
  lua_setfield(L, fields, "required");
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}

/* Builds the calculator object around the table at impl; file_idx names it in errors. */
static int make_calculator(lua_State *L, int file_idx, int impl) {
  const char *file = lua_tostring(L, file_idx);
  lua_createtable(L, 0, 6);
  int fields = lua_gettop(L);
  lua_pushvalue(L, file_idx);
  lua_setfield(L, fields, "file");
  lua_pushvalue(L, impl);
  lua_setfield(L, fields, "impl");
  lua_getfield(L, impl, "full_class_name");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    return lmp_raise(L, LMP_EXIT_CALC, "%s: the table needs full_class_name, a string such as \"torch.nn.modules.linear.Linear\"", file);
  lua_setfield(L, fields, "full_class_name");
  /* { full_class_name = X, same_as = Y }: X is priced by Y's calculator (the registry
   * resolves it); such a file has nothing else */
  if (lua_getfield(L, impl, "same_as") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      return lmp_raise(L, LMP_EXIT_CALC, "%s: same_as must be the full class name of another calculator", file);
    lua_setfield(L, fields, "same_as");
    lua_newuserdatauv(L, 0, 0); /* no parameters */
    push_object(L)->unresolved = 1;
    return 1;
  }
  lua_pop(L, 1);
  /* required_parameters, then every function a call figure always needs */
  const char *required[1 + CF_COUNT];
  int nrequired = 0;
  required[nrequired++] = "required_parameters";
  for (int f = 0; f < CF_COUNT; f++)
    if (LMP_CALL_FIGURES[f].when == CALL_ALWAYS && (nrequired == 1 || strcmp(required[nrequired - 1], LMP_CALL_FIGURES[f].function) != 0))
      required[nrequired++] = LMP_CALL_FIGURES[f].function;
  for (int i = 0; i < nrequired; i++) {
    lua_getfield(L, impl, required[i]);
    if (lua_type(L, -1) != LUA_TFUNCTION)
      return lmp_raise(L, LMP_EXIT_CALC, "%s: %s must be a function, got %s", file, required[i], luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  push_params(L, impl, fields, file);
  push_object(L);
  return 1;
}

/* load_chunk(text, len, chunkname) -> the compiled chunk. Called with lua_pcall and no
 * message handler: deep nesting makes the parser raise "C stack overflow" as a runtime
 * error, which lua_load would pass through the caller's handler (main.c's adds a
 * traceback) before returning it. */
static int load_chunk(lua_State *L) {
  const char *text = lua_touserdata(L, 1);
  if (luaL_loadbufferx(L, text, (size_t)lua_tointeger(L, 2), lua_tostring(L, 3), "t") != LUA_OK) return lua_error(L);
  return 1;
}

/* core.load_calculator(path [, source]) -> calculator object, whose fields are
 *   file, full_class_name, impl (the script's table), required (name -> normalised spec),
 *   names (sorted), same_as (an alias file's, unresolved) */
static int l_load_calculator(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  char *text = NULL;
  size_t len;
  if (lua_isnoneornil(L, 2)) {
    lmp_read_file(L, file, &text, &len);
  }
  lua_settop(L, 2);
  const char *src = text ? text : luaL_checkstring(L, 2);
  if (!text) len = lua_rawlen(L, 2);
  lua_pushcfunction(L, load_chunk);
  lua_pushlightuserdata(L, (void *)src);
  lua_pushinteger(L, (lua_Integer)len);
  lua_pushfstring(L, "@%s", file);
  int rc = lua_pcall(L, 3, 1, 0);
  lmp_file_free(text);
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    size_t flen = strlen(file);
    int named = strncmp(msg, file, flen) == 0 && msg[flen] == ':'; /* "C stack overflow" names no file */
    return lmp_raise(L, LMP_EXIT_CALC, "%s%s%s", named ? "" : file, named ? "" : ": ", msg);
  }
  sandbox_push_env(L);
  lua_setupvalue(L, -2, 1); /* _ENV */
  if (sandbox_pcall(L, 0, 1, file) != LUA_OK) return lua_error(L);
  if (!lua_istable(L, -1))
    return lmp_raise(L, LMP_EXIT_CALC, "%s: a calculator must return a table, not %s", file, luaL_typename(L, -1));
  sandbox_register(L, -1, file);
  return make_calculator(L, 1, lua_gettop(L));
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

/* core.calculator_alias(calc, full_class_name [, file [, same_as]]) -> a calculator object
 * that prices full_class_name with calc's impl and parameters: a same_as file (named by its
 * own file and same_as) or a class of calc's `also` list. file and same_as default to calc's. */
static int l_calculator_alias(lua_State *L) {
  check_calculator(L, 1);
  luaL_checkstring(L, 2);
  luaL_optstring(L, 3, NULL);
  luaL_optstring(L, 4, NULL);
  lua_settop(L, 4);
  lua_createtable(L, 0, 6);
  lua_getiuservalue(L, 1, 1);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
  static const char *const own[] = {"full_class_name", "file", "same_as"};
  for (int i = 0; i < 3; i++) {
    if (lua_isnil(L, 2 + i)) continue;
    lua_pushvalue(L, 2 + i);
    lua_setfield(L, -2, own[i]);
  }
  lua_getiuservalue(L, 1, 2);
  push_object(L)->unresolved = calc_spec(L, 1)->unresolved;
  return 1;
}

/* ---- validation and calls ---- */

/* Pushes a description of the value at idx for error messages ("the float 1.5", "a string"). */
static const char *push_description(lua_State *L, int idx) {
  if (lua_isinteger(L, idx)) return lua_pushfstring(L, "%I", lua_tointeger(L, idx));
  if (lua_type(L, idx) == LUA_TNUMBER) {
    char num[40]; /* %.17g of a double is at most 24 bytes */
    snprintf(num, sizeof num, "%.17g", lua_tonumber(L, idx));
    return lua_pushfstring(L, "the float %s", num);
  }
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    lua_pushlstring(L, s, strnlen(s, 40)); /* the start is enough to recognise it */
    const char *d = lua_pushfstring(L, "the string \"%s\"", lua_tostring(L, -1));
    lua_remove(L, -2);
    return d;
  }
  return lua_pushfstring(L, "a %s", luaL_typename(L, idx));
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
static void unknown_parameter(lua_State *L, const CalcSpec *spec, const char *name) {
  size_t best = 64, limit = strlen(name) / 3 < 2 ? 2 : strlen(name) / 3;
  for (size_t i = 0; i < spec->nparams; i++) {
    size_t d = edit_distance(name, spec->params[i].name);
    if (d < best) best = d;
  }
  int near = best <= limit;
  luaL_Buffer list;
  luaL_buffinit(L, &list);
  int listed = 0;
  for (size_t i = 0; i < spec->nparams; i++) {
    if (near && edit_distance(name, spec->params[i].name) != best) continue;
    if (listed++) luaL_addstring(&list, ", ");
    luaL_addchar(&list, '\'');
    luaL_addstring(&list, spec->params[i].name);
    luaL_addchar(&list, '\'');
  }
  luaL_pushresult(&list);
  const char *names = lua_tostring(L, -1);
  if (near) lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' is not one %s takes; did you mean %s?", name, spec->file, names);
  lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' is not one %s takes (it takes %s)", name, spec->file, names);
}

/* Raises the error for a string parameter (at v) whose value is not among its values. */
static void check_allowed(lua_State *L, int calc, const CalcParam *cp, int v) {
  push_param_spec(L, calc, cp->name);
  lua_getfield(L, -1, "values");
  int found = 0;
  for (lua_Integer k = 1; !found && lua_geti(L, -1, k) != LUA_TNIL; k++) {
    found = lua_rawequal(L, -1, v);
    lua_pop(L, 1);
  }
  if (!found) lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' is \"%s\", not one of the allowed values", cp->name, lua_tostring(L, v));
  lua_settop(L, v);
}

/* Checks the value at v against its parameter's type and range. */
static void check_value(lua_State *L, int calc, const CalcParam *cp, int v) {
  const char *name = cp->name;
  switch (cp->type) {
    case 'i': {
      if (!lua_isinteger(L, v))
        lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be an integer, got %s", name, push_description(L, v));
      lua_Integer x = lua_tointeger(L, v);
      if (x < cp->min) lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be >= %lld, got %lld", name, (long long)cp->min, (long long)x);
      if (cp->has_max && x > cp->max)
        lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be <= %lld, got %lld", name, (long long)cp->max, (long long)x);
      break;
    }
    case 'b':
      if (!lua_isboolean(L, v))
        lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be true or false, got %s", name, push_description(L, v));
      break;
    case 'n':
      if (lua_type(L, v) != LUA_TNUMBER)
        lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be a number, got %s", name, push_description(L, v));
      break;
    default: /* string */
      if (lua_type(L, v) != LUA_TSTRING)
        lmp_raise(L, LMP_EXIT_USAGE, "parameter '%s' must be a string, got %s", name, push_description(L, v));
      if (cp->has_values) check_allowed(L, calc, cp, v);
      break;
  }
}

/* Sets params[name] (at p) to the parameter's default and pushes it. */
static void take_default(lua_State *L, int calc, int p, const CalcParam *cp) {
  push_param_spec(L, calc, cp->name);
  lua_getfield(L, -1, "default");
  lua_setfield(L, p, cp->name);
  lua_pop(L, 1);
  lua_getfield(L, p, cp->name);
}

static int name_order(const void *name, const void *param) {
  return strcmp(name, ((const CalcParam *)param)->name);
}

/* A parameter the calculator does not take is almost always a typo (of a missing one, so
 * that is named first): count the given names, and look for the stranger only when there
 * are more than the calculator's that were present. */
static void check_strangers(lua_State *L, const CalcSpec *spec, int p, size_t present) {
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, p) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) lmp_raise(L, LMP_EXIT_USAGE, "parameter names must be strings");
    count++;
  }
  if (count <= present) return;
  lua_pushnil(L);
  while (lua_next(L, p) != 0) {
    lua_pop(L, 1);
    const char *name = lua_tostring(L, -1);
    if (!bsearch(name, spec->params, spec->nparams, sizeof *spec->params, name_order)) unknown_parameter(L, spec, name);
  }
}

/* Checks params (at index p) against the calculator's parameters, in name order; raises an
 * lmp.Error naming every missing parameter, or the first bad one. Optional parameters
 * ({ ..., default = v }) that are absent take their default. */
static void validate(lua_State *L, int calc, const CalcSpec *spec, int p) {
  luaL_Buffer missing;
  int nmissing = 0;
  size_t present = 0;
  for (size_t i = 0; i < spec->nparams; i++) {
    const CalcParam *cp = &spec->params[i];
    if (lua_getfield(L, p, cp->name) == LUA_TNIL) {
      lua_pop(L, 1);
      if (!cp->has_default) {
        if (nmissing++ == 0) luaL_buffinit(L, &missing); /* stays on top: the loop leaves the stack as it finds it */
        else luaL_addstring(&missing, ", ");
        luaL_addchar(&missing, '\'');
        luaL_addstring(&missing, cp->name);
        luaL_addchar(&missing, '\'');
        continue;
      }
      take_default(L, calc, p, cp);
    }
    present++;
    int v = lua_gettop(L);
    check_value(L, calc, cp, v);
    lua_settop(L, v - 1);
  }
  if (nmissing) luaL_pushresult(&missing);
  check_strangers(L, spec, p, present);
  if (nmissing)
    lmp_raise(L, LMP_EXIT_USAGE, "missing parameter%s %s for %s", nmissing > 1 ? "s" : "", lua_tostring(L, -1), spec->file);
}

/* call figure f from the value at idx; errors name it as "memory().reads" */
static void take_figure(lua_State *L, int idx, const char *file, CallFigure f, int64_t out[CF_COUNT]) {
  const CallFigureDef *c = &LMP_CALL_FIGURES[f];
  if (lua_isinteger(L, idx) && lua_tointeger(L, idx) >= 0) {
    out[f] = lua_tointeger(L, idx);
    return;
  }
  const char *what = lua_pushfstring(L, "%s()%s%s", c->function, c->field ? "." : "", c->field ? c->field : "");
  if (lua_isinteger(L, idx))
    lmp_raise(L, LMP_EXIT_CALC, "%s: %s returned %lld, a negative value", file, what, (long long)lua_tointeger(L, idx));
  if (lua_type(L, idx) == LUA_TNUMBER)
    lmp_raise(L, LMP_EXIT_CALC, "%s: %s returned %s, a float; calculators return integers (use // or kernels.bytes)",
              file, what, lua_tostring(L, idx));
  lmp_raise(L, LMP_EXIT_CALC, "%s: %s returned %s, not an integer", file, what, luaL_typename(L, idx));
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

/* Calls the named functions of the impl at -1 (popped) on a copy of params (at p) in the
 * sandbox; leaves n results on the stack. */
static void call_functions(lua_State *L, int p, const char *file, const char *const *names, int n) {
  lua_pushcfunction(L, run_functions);
  lua_insert(L, -2);
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

/* The functions a call runs, each once, in the order of LMP_CALL_FIGURES (flops,
 * matmul_flops, params, memory, state, and backward when the phase has a backward pass);
 * fn_of[f] is the position of figure f's function, -1 when this phase does not call it. */
typedef struct {
  const char *names[CF_COUNT];
  int n, fn_of[CF_COUNT];
} CallPlan;

static void plan_calls(CallPlan *plan, int with_backward) {
  plan->n = 0;
  for (int f = 0; f < CF_COUNT; f++) {
    const char *fn = LMP_CALL_FIGURES[f].function;
    plan->fn_of[f] = -1;
    int when = LMP_CALL_FIGURES[f].when;
    if ((when == CALL_BACKWARD || when == CALL_BACKWARD_OPTIONAL) && !with_backward) continue;
    for (int k = 0; k < plan->n; k++)
      if (strcmp(plan->names[k], fn) == 0) plan->fn_of[f] = k;
    if (plan->fn_of[f] < 0) {
      plan->fn_of[f] = plan->n;
      plan->names[plan->n++] = fn;
    }
  }
}

/* "{reads=, writes=, intermediates=}": the fields a function's table must have */
static const char *push_fields_of(lua_State *L, const char *fn) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  for (int f = 0, first = 1; f < CF_COUNT; f++) {
    const CallFigureDef *c = &LMP_CALL_FIGURES[f];
    if (c->field == NULL || c->when == CALL_OPTIONAL || c->when == CALL_BACKWARD_OPTIONAL || strcmp(c->function, fn) != 0)
      continue;
    if (!first) luaL_addstring(&b, ", ");
    luaL_addstring(&b, c->field);
    luaL_addchar(&b, '=');
    first = 0;
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* The checks between figures: weights are part of reads (and a layer with parameters says
 * how many), matmul FLOPs part of FLOPs, forward and backward alike. */
static void check_figures(lua_State *L, const char *file, const int64_t out[CF_COUNT], int weights_given) {
  if (out[CF_PARAMS] > 0 && !weights_given)
    lmp_raise(L, LMP_EXIT_CALC, "%s: memory() must give weights (bytes of weights among reads) for a layer with parameters", file);
  if (out[CF_WEIGHTS] > out[CF_READS])
    lmp_raise(L, LMP_EXIT_CALC, "%s: memory().weights (%lld) is larger than reads (%lld)", file,
              (long long)out[CF_WEIGHTS], (long long)out[CF_READS]);
  if (out[CF_BWD_MATMUL] > out[CF_BWD_FLOPS])
    lmp_raise(L, LMP_EXIT_CALC, "%s: backward matmul_flops (%lld) is larger than backward flops (%lld)", file,
              (long long)out[CF_BWD_MATMUL], (long long)out[CF_BWD_FLOPS]);
  if (out[CF_MATMUL] > out[CF_FLOPS])
    lmp_raise(L, LMP_EXIT_CALC, "%s: matmul_flops (%lld) is larger than flops (%lld); flops must include the matmul share",
              file, (long long)out[CF_MATMUL], (long long)out[CF_FLOPS]);
}

/* The backward pass's traffic a calculator leaves out, by the default rule: it reads the
 * gradient of each output (writes' bytes), the saved inputs and the weights (reads) and the
 * saved intermediates, and writes one gradient per input and weight (reads' bytes). A given
 * figure must hold the weights (each weight is read, and its gradient written, once). */
static void backward_traffic(lua_State *L, const char *file, int64_t out[CF_COUNT], int reads_given, int writes_given) {
  if (!reads_given && (__builtin_add_overflow(out[CF_WRITES], out[CF_READS], &out[CF_BWD_READS]) ||
                       __builtin_add_overflow(out[CF_BWD_READS], out[CF_INTER], &out[CF_BWD_READS])))
    lmp_raise(L, LMP_EXIT_CALC, "%s: the backward pass's reads exceed 2^63-1", file);
  if (!writes_given) out[CF_BWD_WRITES] = out[CF_READS];
  if (out[CF_BWD_READS] < out[CF_WEIGHTS] || out[CF_BWD_WRITES] < out[CF_WEIGHTS])
    lmp_raise(L, LMP_EXIT_CALC, "%s: backward reads (%lld) and writes (%lld) must each hold the weights (%lld)", file,
              (long long)out[CF_BWD_READS], (long long)out[CF_BWD_WRITES], (long long)out[CF_WEIGHTS]);
}

int calc_compute(lua_State *L, int calc, int p, int want_backward, int64_t out[CF_COUNT]) {
  static CallPlan plans[2]; /* forward only, with the backward pass */
  if (plans[0].n == 0) {
    plan_calls(&plans[0], 0);
    plan_calls(&plans[1], 1);
  }
  const CallPlan *plan = &plans[want_backward ? 1 : 0];
  calc = lua_absindex(L, calc);
  p = lua_absindex(L, p);
  luaL_checkstack(L, 24 + CF_COUNT, "calculator call");
  const CalcSpec *spec = check_calculator(L, calc);
  const char *file = spec->file;
  if (spec->unresolved)
    lmp_raise(L, LMP_EXIT_CALC, "%s: an alias file (same_as) prices nothing itself; the registry gives its class the target's calculator", file);
  int top = lua_gettop(L);
  validate(L, calc, spec, p);
  push_field(L, calc, "impl");
  for (int f = 0; f < CF_COUNT && want_backward; f++) { /* optional functions the backward pass needs */
    const CallFigureDef *c = &LMP_CALL_FIGURES[f];
    if (c->when != CALL_BACKWARD) continue;
    int has = lua_getfield(L, -1, c->function) == LUA_TFUNCTION;
    lua_pop(L, 1);
    if (!has) lmp_raise(L, LMP_EXIT_CALC, "%s: has no %s(), which --phase train needs", file, c->function);
  }
  call_functions(L, p, file, plan->names, plan->n);
  int weights_given = 1, bwd_reads_given = 0, bwd_writes_given = 0; /* results at top+1 .. top+plan->n */
  for (int f = 0; f < CF_COUNT; f++) {
    const CallFigureDef *c = &LMP_CALL_FIGURES[f];
    out[f] = 0;
    if (plan->fn_of[f] < 0) continue;
    int idx = top + 1 + plan->fn_of[f];
    if (c->field != NULL) {
      if (!lua_istable(L, idx))
        lmp_raise(L, LMP_EXIT_CALC, "%s: %s() must return %s, got %s", file, c->function, push_fields_of(L, c->function),
                  luaL_typename(L, idx));
      lua_getfield(L, idx, c->field);
      idx = lua_gettop(L);
    }
    if (lua_isnil(L, idx) && (c->when == CALL_OPTIONAL || c->when == CALL_BACKWARD_OPTIONAL)) {
      if (f == CF_WEIGHTS) weights_given = 0;
    } else {
      take_figure(L, idx, file, (CallFigure)f, out);
      if (f == CF_BWD_READS) bwd_reads_given = 1;
      if (f == CF_BWD_WRITES) bwd_writes_given = 1;
    }
    if (c->field != NULL) lua_pop(L, 1);
  }
  lua_settop(L, top);
  if (want_backward) backward_traffic(L, file, out, bwd_reads_given, bwd_writes_given);
  check_figures(L, file, out, weights_given);
  return 0;
}

/* core.compute(calc, params [, want_backward]) -> { flops=, matmul_flops=, params=, reads=, writes=,
 *   intermediates=, weights=, state=, backward_flops=, backward_matmul_flops= } */
static int l_compute(lua_State *L) {
  check_calculator(L, 1);
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
  const CalcSpec *spec = check_calculator(L, 1);
  const char *fname = luaL_checkstring(L, 2);
  if (lua_isnoneornil(L, 3)) { lua_newtable(L); lua_replace(L, 3); }
  lua_settop(L, 3);
  const char *what = lua_pushfstring(L, "%s: %s", spec->file, fname);
  push_field(L, 1, "impl");
  if (lua_getfield(L, -1, fname) != LUA_TFUNCTION) {
    lua_pushnil(L);
    return 1;
  }
  lua_remove(L, -2);
  lua_pushvalue(L, 3);
  if (sandbox_pcall(L, 1, 1, what) != LUA_OK) return lua_error(L);
  return 1;
}

int luaopen_lmp_calc(lua_State *L) {
  static const luaL_Reg fns[] = {{"load_calculator", l_load_calculator}, {"compute", l_compute},
                                 {"calculator_from_table", l_calculator_from_table},
                                 {"calculator_alias", l_calculator_alias},
                                 {"call_calculator", l_call_calculator}, {NULL, NULL}};
  lmp_push_kernels(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "lmp.kernels");
  luaL_newlib(L, fns);
  lua_insert(L, -2);
  lua_setfield(L, -2, "kernels");
  return 1;
}
