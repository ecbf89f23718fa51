/* Exact integers past 64 bits: 128-bit text and Lua values (a Lua integer when it fits, else
 * an exact decimal string, as every figure is), and the arithmetic Lua code does on them
 * (core.exact) instead of building formula strings. */
#include <string.h>

#include "lmp.h"

int i128_to_str(i128 v, char buf[48]) {
  char tmp[48];
  int n = 0, neg = v < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
  do {
    tmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0);
  int len = 0;
  if (neg) buf[len++] = '-';
  while (n > 0) buf[len++] = tmp[--n];
  buf[len] = '\0';
  return len;
}

void lmp_push_i128(lua_State *L, i128 v) {
  if (v >= INT64_MIN && v <= INT64_MAX) {
    lua_pushinteger(L, (lua_Integer)v);
  } else {
    char buf[48];
    i128_to_str(v, buf);
    lua_pushstring(L, buf);
  }
}

/* "-123" -> -123: an optional sign, then 1 to 39 digits; 0 when s is not one such integer
 * or it does not fit 128 bits */
static int str_to_i128(const char *s, size_t len, i128 *out) {
  size_t i = 0;
  int neg = len > 0 && (s[0] == '-' || s[0] == '+');
  if (neg) neg = s[i++] == '-';
  if (i == len || len - i > 39) return 0;
  i128 v = 0;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, neg ? -(s[i] - '0') : s[i] - '0', &v)) return 0;
  }
  *out = v;
  return 1;
}

int lmp_to_i128(lua_State *L, int idx, i128 *out) {
  if (lua_isinteger(L, idx)) {
    *out = lua_tointeger(L, idx);
    return 1;
  }
  if (lua_type(L, idx) != LUA_TSTRING) return 0;
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  return str_to_i128(s, len, out);
}

static i128 exact_arg(lua_State *L, int idx, const char *fn) {
  i128 v;
  if (lmp_to_i128(L, idx, &v)) return v;
  if (lua_type(L, idx) == LUA_TNUMBER)
    return luaL_error(L, "exact.%s: argument %d is the float %s; exact figures are integers or decimal strings", fn, idx,
                      lua_tostring(L, idx)), 0;
  return luaL_error(L, "exact.%s: argument %d is %s, not an integer or a decimal string of one", fn, idx,
                    lua_type(L, idx) == LUA_TSTRING ? "a string that is not an integer" : luaL_typename(L, idx)), 0;
}

static int exact_overflow(lua_State *L, const char *fn) {
  return lmp_raise(L, LMP_EXIT_CALC, "exact.%s: a figure exceeds 128 bits", fn);
}

/* exact.add(a, b, ...) / exact.mul(a, b, ...): any number of arguments */
static int x_add(lua_State *L) {
  i128 acc = 0;
  for (int i = 1, n = lua_gettop(L); i <= n; i++)
    if (__builtin_add_overflow(acc, exact_arg(L, i, "add"), &acc)) return exact_overflow(L, "add");
  lmp_push_i128(L, acc);
  return 1;
}

static int x_mul(lua_State *L) {
  i128 acc = 1;
  for (int i = 1, n = lua_gettop(L); i <= n; i++)
    if (__builtin_mul_overflow(acc, exact_arg(L, i, "mul"), &acc)) return exact_overflow(L, "mul");
  lmp_push_i128(L, acc);
  return 1;
}

static int x_sub(lua_State *L) {
  i128 r, a = exact_arg(L, 1, "sub"), b = exact_arg(L, 2, "sub");
  if (__builtin_sub_overflow(a, b, &r)) return exact_overflow(L, "sub");
  lmp_push_i128(L, r);
  return 1;
}

/* exact.div(a, b): a / b rounded toward minus infinity (Lua's //); exact.ceil_div rounds up */
static int divide(lua_State *L, const char *fn, int up) {
  i128 a = exact_arg(L, 1, fn), b = exact_arg(L, 2, fn);
  if (b == 0) return luaL_error(L, "exact.%s: division by zero", fn);
  if (b == -1) {
    if (a == (i128)((unsigned __int128)1 << 127)) return exact_overflow(L, fn);
    lmp_push_i128(L, -a);
    return 1;
  }
  i128 q = a / b, r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)) && !up) q--;
  if (r != 0 && ((r < 0) == (b < 0)) && up) q++;
  lmp_push_i128(L, q);
  return 1;
}
static int x_div(lua_State *L) { return divide(L, "div", 0); }
static int x_ceil_div(lua_State *L) { return divide(L, "ceil_div", 1); }

/* exact.cmp(a, b) -> -1, 0 or 1 */
static int x_cmp(lua_State *L) {
  i128 a = exact_arg(L, 1, "cmp"), b = exact_arg(L, 2, "cmp");
  lua_pushinteger(L, (a > b) - (a < b));
  return 1;
}

static int x_max(lua_State *L) {
  i128 acc = exact_arg(L, 1, "max");
  for (int i = 2, n = lua_gettop(L); i <= n; i++) {
    i128 v = exact_arg(L, i, "max");
    if (v > acc) acc = v;
  }
  lmp_push_i128(L, acc);
  return 1;
}

/* exact.tostring(v) -> its decimal digits; exact.value(v) -> the canonical figure (a Lua
 * integer when it fits, else the decimal string), or nil when v is not an exact integer */
static int x_tostring(lua_State *L) {
  char buf[48];
  lua_pushlstring(L, buf, (size_t)i128_to_str(exact_arg(L, 1, "tostring"), buf));
  return 1;
}

static int x_value(lua_State *L) {
  i128 v;
  if (!lmp_to_i128(L, 1, &v)) return lua_pushnil(L), 1;
  lmp_push_i128(L, v);
  return 1;
}

int luaopen_lmp_exact(lua_State *L) {
  static const luaL_Reg fns[] = {{"add", x_add}, {"sub", x_sub}, {"mul", x_mul}, {"div", x_div},
                                 {"ceil_div", x_ceil_div}, {"cmp", x_cmp}, {"max", x_max},
                                 {"tostring", x_tostring}, {"value", x_value}, {NULL, NULL}};
  lua_newtable(L);
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "exact");
  return 1;
}
