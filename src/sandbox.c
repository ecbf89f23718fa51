/* The sandbox for calculators (bundled, hand-written or generated: all run the same way).
 * As in haproxy's hlua.c and redis' script_lua.c: a counting allocator that refuses past
 * a cap, a LUA_MASKCOUNT hook as the CPU budget, an explicit allow-list of globals, and
 * text-only chunks (bytecode refused at load, see calc.c). docs/security.md states what it
 * promises. Three more rules make the limits hold:
 *  - the budget covers work done inside C functions too: allocation, the pattern matcher
 *    (pattern.c) and the library functions that loop without running Lua code are charged
 *    (sandbox_charge), and the CPU time of the call is checked with the budget;
 *  - once the budget is spent (or Ctrl-C was pressed) the call is doomed: the hook raises
 *    on every instruction and the sandbox's pcall passes the error on, so nothing inside
 *    the sandbox can catch it;
 *  - what a calculator keeps between calls (its globals, upvalues, tables) is measured
 *    and capped, not only what one call allocates. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmp.h"

static const char BUDGET_MSG[] = "instruction budget exceeded (a loop that never ends?)";

static LmpAlloc *host_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

#define HOOK_EVERY 1000
/* allocation costs one instruction per ALLOC_BYTES bytes (copying 64 bytes costs about
 * what an instruction does) */
#define ALLOC_BYTES 64

static void budget_hook(lua_State *L, lua_Debug *ar);

/* the count hook fires every `step` instructions: HOOK_EVERY, or the whole budget if smaller;
 * once the call is doomed, on every instruction */
static int hook_step(LmpAlloc *a) {
  return a->doomed ? 1 : a->budget < HOOK_EVERY ? (int)(a->budget > 0 ? a->budget : 1) : HOOK_EVERY;
}

static void set_hook(lua_State *L, LmpAlloc *a) {
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, hook_step(a));
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Ctrl-C (main.c) replaces the hook with its own, which raises "interrupted!" and clears
 * itself: inside a sandboxed call, any hook but ours means an interrupt */
static int interrupted(lua_State *L) {
  return lua_gethook(L) != budget_hook;
}

static int doom(lua_State *L, LmpAlloc *a, int why) {
  a->doomed = why;
  set_hook(L, a);
  return luaL_error(L, "%s", why == DOOM_INTERRUPT ? "interrupted!" : BUDGET_MSG);
}

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
  if (a->active && nsize > osize) {
    a->budget -= (int64_t)(nsize / ALLOC_BYTES);
    /* the hook raises at the next instruction; nothing here may raise */
    if (a->budget <= 0 && !a->doomed && lua_gethook(a->L) == budget_hook) lua_sethook(a->L, budget_hook, LUA_MASKCOUNT, 1);
  }
  void *p = realloc(ptr, nsize);
  if (p != NULL) a->used = a->used - osize + nsize;
  return p;
}

static void check_budget(lua_State *L, LmpAlloc *a) {
  if (a->doomed) doom(L, a, a->doomed);
  /* the clock starts at the first check (most calls end before one: no system call) */
  if (a->deadline < 0) a->deadline = cpu_seconds() - a->deadline;
  if (a->budget <= 0 || cpu_seconds() > a->deadline) doom(L, a, DOOM_BUDGET);
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  LmpAlloc *a = host_of(L);
  if (!a->active) return;
  a->budget -= lua_gethookcount(L);
  check_budget(L, a);
  /* reset only when the step changes: a Ctrl-C that arrived during this hook set its own */
  if (lua_gethookcount(L) != hook_step(a) && !interrupted(L)) set_hook(L, a);
}

void sandbox_charge(lua_State *L, int64_t cost) {
  LmpAlloc *a = host_of(L);
  if (!a->active) return;
  if (interrupted(L)) doom(L, a, DOOM_INTERRUPT);
  a->budget -= cost;
  check_budget(L, a);
}

static int check_held(lua_State *L, size_t cap);

int sandbox_pcall(lua_State *L, int nargs, int nresults, const char *what) {
  LmpAlloc *a = host_of(L);
  size_t mem_cap = lmp_env_size("LMP_CALC_MEMORY", SANDBOX_MEMORY, SIZE_MAX);
  LmpAlloc saved = *a;
  size_t used_before = a->used;
  a->limit = a->used + mem_cap;
  a->cap_hit = 0;
  a->budget = (int64_t)lmp_env_size("LMP_CALC_INSTRUCTIONS", SANDBOX_INSTRUCTIONS, SIZE_MAX);
  a->deadline = -(double)lmp_env_size("LMP_CALC_SECONDS", SANDBOX_SECONDS, SIZE_MAX); /* negative: not started */
  a->active = 1;
  a->doomed = 0;
  a->L = L;
  lua_Hook saved_hook = lua_gethook(L);
  int saved_mask = lua_gethookmask(L), saved_count = lua_gethookcount(L);
  set_hook(L, a);
  int rc = lua_pcall(L, nargs, nresults, 0);
  int doomed = a->doomed, cap_hit = a->cap_hit;
  lua_Hook now = lua_gethook(L);
  if (now == budget_hook || now == NULL) lua_sethook(L, saved_hook, saved_mask, saved_count); /* else Ctrl-C's, still armed */
  a->limit = saved.limit;
  a->budget = saved.budget;
  a->deadline = saved.deadline;
  a->active = saved.active;
  a->doomed = saved.doomed;
  a->L = saved.L;
  a->cap_hit = saved.cap_hit;
  if (rc == LUA_OK) {
    if (a->used > used_before) a->grown += a->used - used_before;
    if (a->grown >= mem_cap) { /* measured again once calls have added another cap's worth */
      a->grown = 0;
      if (check_held(L, mem_cap) != 0) {
        lua_insert(L, -1 - nresults);
        lua_pop(L, nresults);
        return LUA_ERRRUN;
      }
    }
    return LUA_OK;
  }
  const char *msg = lua_tostring(L, -1);
  if (doomed && !(msg && strstr(msg, doomed == DOOM_INTERRUPT ? "interrupted!" : BUDGET_MSG))) {
    lua_pop(L, 1); /* whatever was raised while the call unwound: say why it stopped */
    lua_pushstring(L, doomed == DOOM_INTERRUPT ? "interrupted!" : BUDGET_MSG);
  } else if (!doomed && (rc == LUA_ERRMEM || cap_hit)) {
    lua_pop(L, 1);
    lua_pushfstring(L, "memory cap of %d MiB exceeded", (int)(mem_cap >> 20));
  } else if (!lua_isstring(L, -1)) {
    luaL_tolstring(L, -1, NULL); /* an error object: use its __tostring */
    lua_remove(L, -2);
  }
  lmp_push_errorf(L, LMP_EXIT_CALC, "%s: %s", what, lua_tostring(L, -1));
  lua_remove(L, -2);
  return rc;
}

/* ---- what calculators keep between calls ---- */

#define ROOTS "lmp.sandbox_roots" /* weak keys: a calculator's table -> its file */

void sandbox_register(lua_State *L, int impl, const char *file) {
  impl = lua_absindex(L, impl);
  if (lua_getfield(L, LUA_REGISTRYINDEX, ROOTS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, ROOTS);
  }
  lua_pushvalue(L, impl);
  lua_pushstring(L, file);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

static void mark(lua_State *L, int seen) {
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
}

/* Bytes (estimated from Lua 5.4's object sizes) reachable from the value at root: the
 * calculator's table, its functions, their upvalues (the chunk's locals and its _ENV with
 * the globals) and everything these hold; the host's tables are not followed. Iterative,
 * so that a deep structure cannot overflow the C stack. */
static size_t held_by(lua_State *L, int root) {
  root = lua_absindex(L, root);
  lua_newtable(L);
  int seen = lua_gettop(L);
  lua_pushglobaltable(L);
  mark(L, seen);
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  mark(L, seen);
  lua_getfield(L, LUA_REGISTRYINDEX, "lmp.kernels");
  mark(L, seen);
  lua_newtable(L);
  int todo = seen + 1;
  lua_Integer n = 0;
  lua_pushvalue(L, root);
  lua_rawseti(L, todo, ++n);
  size_t total = 0;
  while (n > 0) {
    lua_rawgeti(L, todo, n);
    lua_pushnil(L);
    lua_rawseti(L, todo, n--);
    int v = lua_gettop(L), t = lua_type(L, v);
    lua_pushvalue(L, v);
    int known = t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TLIGHTUSERDATA ||
                lua_rawget(L, seen) != LUA_TNIL;
    lua_settop(L, v);
    if (!known) {
      lua_pushvalue(L, v);
      mark(L, seen);
      if (t == LUA_TSTRING || t == LUA_TUSERDATA) {
        total += lua_rawlen(L, v) + 32;
      } else if (t == LUA_TTABLE) {
        total += 56;
        lua_pushnil(L);
        while (lua_next(L, v) != 0) {
          total += 32;
          lua_rawseti(L, todo, ++n);
          lua_pushvalue(L, -1);
          lua_rawseti(L, todo, ++n);
        }
      } else if (t == LUA_TFUNCTION) {
        total += 48;
        for (int i = 1; lua_getupvalue(L, v, i) != NULL; i++) {
          total += 16;
          lua_rawseti(L, todo, ++n);
        }
      } else {
        total += 1024; /* a thread */
      }
    }
    lua_settop(L, v - 1);
  }
  lua_pop(L, 2);
  return total;
}

/* Measures what every loaded calculator keeps; over the cap, pushes an lmp.Error naming
 * the largest and returns -1. */
static int measure_held(lua_State *L, size_t cap) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, ROOTS) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  int roots = lua_gettop(L);
  size_t total = 0, most = 0;
  lua_pushnil(L); /* the file of the largest */
  lua_pushnil(L);
  while (lua_next(L, roots) != 0) {
    size_t held = held_by(L, -2);
    total += held;
    if (held > most) {
      most = held;
      lua_replace(L, roots + 1);
    } else {
      lua_pop(L, 1);
    }
  }
  int over = most > cap || total > SANDBOX_HELD_TOTAL * cap;
  if (most > cap)
    lmp_push_errorf(L, LMP_EXIT_CALC, "%s keeps %zu MiB between calls (globals, upvalues, tables), over the memory cap of %zu MiB (LMP_CALC_MEMORY)",
                    lua_tostring(L, roots + 1), most >> 20, cap >> 20);
  else if (over)
    lmp_push_errorf(L, LMP_EXIT_CALC, "the calculators keep %zu MiB between calls together, over %d times the memory cap of %zu MiB (LMP_CALC_MEMORY)",
                    total >> 20, SANDBOX_HELD_TOTAL, cap >> 20);
  if (!over) {
    lua_settop(L, roots - 1);
    return 0;
  }
  lua_replace(L, roots); /* the error, in place of what measuring used */
  lua_settop(L, roots);
  return -1;
}

static int check_held(lua_State *L, size_t cap) {
  if (measure_held(L, cap) == 0) return 0;
  /* a calculator the host has dropped (a refused generate round) stays in the weak table
   * until it is collected: collect, then measure again */
  lua_pop(L, 1);
  lua_gc(L, LUA_GCCOLLECT);
  return measure_held(L, cap);
}

/* ---- the library as calculators see it ---- */

/* The sandbox's pcall: as Lua's, except that a spent budget or an interrupt goes on up. */
static int sandbox_pcall_fn(lua_State *L) {
  luaL_checkany(L, 1);
  int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  LmpAlloc *a = host_of(L);
  if (status != LUA_OK && a->active) {
    if (!a->doomed && interrupted(L)) a->doomed = DOOM_INTERRUPT;
    if (a->doomed) {
      set_hook(L, a);
      return lua_error(L);
    }
  }
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, 1);
  return lua_gettop(L);
}

/* Library functions that loop in C without allocating in proportion (string.rep of "",
 * table.move over nils, a plain search, ...): each is charged for its work, then called. */
enum { K_REP, K_BYTE, K_TUNPACK, K_CONCAT, K_INSERT, K_REMOVE, K_MOVE, K_SORT, K_FORMAT, K_FMT, K_FMT_DATA, K_LEN1, K_STRINGS };

static int64_t int_arg(lua_State *L, int i, int64_t dflt) {
  int ok;
  lua_Integer v = lua_tointegerx(L, i, &ok); /* as luaL_checkinteger reads it: 1e15 too */
  return ok ? v : dflt;
}

static int64_t span(int64_t from, int64_t to) {
  i128 n = (i128)to - from + 1;
  return n <= 0 ? 0 : n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

static int64_t str_len(lua_State *L, int i) {
  return lua_type(L, i) == LUA_TSTRING ? (int64_t)lua_rawlen(L, i) : 0;
}

static int64_t tab_len(lua_State *L, int i) {
  return lua_type(L, i) == LUA_TTABLE ? (int64_t)lua_rawlen(L, i) : 0;
}

static int64_t cost_of(lua_State *L, int kind) {
  switch (kind) {
    case K_REP: { /* n copies of s and sep: a step per 16 copies even when both are empty */
      int64_t n = int_arg(L, 2, 0);
      if (n <= 0) return 0;
      i128 c = (i128)n / 16 + (i128)n * (str_len(L, 1) + str_len(L, 3)) / ALLOC_BYTES;
      return c > INT64_MAX ? INT64_MAX : (int64_t)c;
    }
    case K_BYTE: { /* one result per byte of s[i..j] */
      int64_t len = str_len(L, 1), i = int_arg(L, 2, 1), j = int_arg(L, 3, i);
      if (i < 0) i += len + 1;
      if (j < 0) j += len + 1;
      return span(i < 1 ? 1 : i, j > len ? len : j);
    }
    case K_TUNPACK: return span(int_arg(L, 2, 1), int_arg(L, 3, tab_len(L, 1)));
    case K_CONCAT: return span(int_arg(L, 3, 1), int_arg(L, 4, tab_len(L, 1)));
    case K_INSERT: return lua_gettop(L) >= 3 ? span(int_arg(L, 2, 1), tab_len(L, 1)) : 1;
    case K_REMOVE: return lua_gettop(L) >= 2 ? span(int_arg(L, 2, 1), tab_len(L, 1)) : 1;
    case K_MOVE: return span(int_arg(L, 2, 1), int_arg(L, 3, 0));
    case K_SORT: { /* n log2 n comparisons (a Lua comparator is metered on its own) */
      int64_t n = tab_len(L, 1), log = 1;
      while ((1LL << log) < n && log < 62) log++;
      return n * log;
    }
    case K_FORMAT: { /* a conversion such as %99.99f of 1e308 costs what ~256 instructions do */
      int64_t len = str_len(L, 1), c = len;
      const char *f = lua_tostring(L, 1);
      for (int64_t i = 0; i < len; i++) c += f[i] == '%' ? 256 : 0;
      return c;
    }
    case K_FMT: return str_len(L, 1);
    case K_FMT_DATA: return str_len(L, 1) + str_len(L, 2) / ALLOC_BYTES;
    case K_STRINGS: { /* a string read as a number is read whole */
      int64_t c = 0;
      for (int i = 1; i <= lua_gettop(L); i++) c += str_len(L, i);
      return c;
    }
    default: return str_len(L, 1);
  }
}

static int charged(lua_State *L) {
  if (host_of(L)->active) sandbox_charge(L, cost_of(L, (int)lua_tointeger(L, lua_upvalueindex(2))));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* lib[name] = the charged version of lib[name] (lib at -1, or at -2 with a key on top) */
static void charge_field_at(lua_State *L, int lib, const char *name, int kind) {
  lib = lua_absindex(L, lib);
  lua_getfield(L, lib, name);
  lua_pushinteger(L, kind);
  lua_pushcclosure(L, charged, 2);
  lua_setfield(L, lib, name);
}
#define charge_field(L, name, kind) charge_field_at(L, -1, name, kind)

/* Installs the metered functions in the global string library, which the sandbox copies
 * and which strings reach through their metatable, ("a"):rep(...); the table library and
 * tonumber are metered in the sandbox's copies only (sandbox_push_env). */
static void install_metered(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "lmp.metered") == LUA_TBOOLEAN) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "lmp.metered");
  lua_getglobal(L, "string");
  static const luaL_Reg patterns[] = {{"find", lmp_str_find}, {"match", lmp_str_match},
                                      {"gmatch", lmp_str_gmatch}, {"gsub", lmp_str_gsub}, {NULL, NULL}};
  luaL_setfuncs(L, patterns, 0);
  static const struct { const char *name; int kind; } string_fns[] = {
      {"rep", K_REP}, {"byte", K_BYTE}, {"format", K_FORMAT}, {"pack", K_FMT}, {"packsize", K_FMT},
      {"unpack", K_FMT_DATA}, {"upper", K_LEN1}, {"lower", K_LEN1}, {"reverse", K_LEN1}};
  for (size_t i = 0; i < sizeof string_fns / sizeof string_fns[0]; i++) charge_field(L, string_fns[i].name, string_fns[i].kind);
  lua_pop(L, 1);
  /* arithmetic on strings ("1" + 0) converts them through the string metatable */
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  static const char *const arith[] = {"__add", "__sub", "__mul", "__mod", "__pow", "__div", "__idiv", "__unm", NULL};
  for (const char *const *m = arith; *m; m++)
    if (lua_getfield(L, -1, *m) == LUA_TFUNCTION) {
      lua_pop(L, 1);
      charge_field(L, *m, K_STRINGS);
    } else {
      lua_pop(L, 1);
    }
  lua_pop(L, 2);
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
  lua_getfield(L, -1, "table");
  static const struct { const char *name; int kind; } table_fns[] = {
      {"unpack", K_TUNPACK}, {"concat", K_CONCAT}, {"insert", K_INSERT},
      {"remove", K_REMOVE},  {"move", K_MOVE},     {"sort", K_SORT}};
  for (size_t i = 0; i < sizeof table_fns / sizeof table_fns[0]; i++) charge_field(L, table_fns[i].name, table_fns[i].kind);
  lua_pop(L, 1);
  charge_field(L, "tonumber", K_LEN1);
  lua_getfield(L, -1, "math"); /* math.floor("1111...") reads the string whole */
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    int fn = lua_type(L, -1) == LUA_TFUNCTION;
    lua_pop(L, 1);
    if (fn) charge_field_at(L, -2, lua_tostring(L, -1), K_STRINGS); /* changing a value keeps next going */
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, sandbox_pcall_fn);
  lua_setfield(L, -2, "pcall");
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
  install_metered(L);
  static const luaL_Reg fns[] = {{"sandbox_env", l_sandbox_env}, {"memory_in_use", l_memory_in_use}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
