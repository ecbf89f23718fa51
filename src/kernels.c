/* The kernels calculators build on (the `kernels` global of the sandbox, lmp.kernels in
 * scripts): checked int64 arithmetic that raises on overflow instead of wrapping, and the
 * per-element cost tables COST and BACKWARD_COST. */
#include "lmp.h"

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
    {"rmsnorm", 3}, {"rotary", 3},    {"dropout", 0},   {"embedding", 0},
    /* the other activations of transformers' ACT2FN */
    {"identity", 0}, {"relu6", 2},    {"leaky_relu", 2}, {"prelu", 2},   {"relu2", 2},     {"hardswish", 5},
    {"quick_gelu", 5}, {"clipped_gelu", 7}, {"laplace", 5}, {"mish", 5}, {"sqrt_softplus", 4}, {"xielu", 11},
    /* vision; sin and cos of the rotary tables */
    {"batchnorm", 2}, {"trig", 1}};

/* Backward FLOPs per element (docs/calculators.md derives each). */
static const struct { const char *op; int cost; } BACKWARD_COSTS[] = {
    {"add", 1},     {"mul", 2},        {"scale", 1},   {"mask", 0},      {"dropout", 0},  {"relu", 1},
    {"tanh", 3},    {"sigmoid", 3},    {"silu", 8},    {"gelu", 11},     {"gelu_tanh", 19}, {"softmax", 4},
    {"layernorm", 8}, {"rmsnorm", 6},  {"rotary", 3},  {"embedding", 1},
    {"identity", 0}, {"relu6", 2},     {"leaky_relu", 2}, {"prelu", 5},  {"relu2", 3},     {"hardswish", 5},
    {"quick_gelu", 9}, {"clipped_gelu", 13}, {"laplace", 7}, {"mish", 11}, {"sqrt_softplus", 6}, {"xielu", 19},
    {"batchnorm", 8}, {"trig", 2}};

void lmp_push_kernels(lua_State *L) {
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
