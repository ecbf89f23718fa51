/* User-facing errors are tables {code = <exit code>, message = "..."} with the metatable
 * "lmp.Error" (its __tostring is the message). A plain string error means a bug in lmp:
 * main.c prints those with a traceback. */
#include <stdarg.h>
#include <stdio.h>

#include "lmp.h"

#define ERROR_MT "lmp.Error"

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "message");
  if (!lua_isstring(L, -1)) lua_pushliteral(L, "(lmp error without a message)");
  return 1;
}

static void push_error_metatable(lua_State *L) {
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "lmp.Error");
    lua_setfield(L, -2, "__name");
  }
}

static void push_error(lua_State *L, int code, const char *msg) {
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  push_error_metatable(L);
  lua_setmetatable(L, -2);
}

/* an error that quotes its input (a calculator's message, a syntax error near a string, a
 * parameter's value) stays one line and prints no terminal escapes */
static void one_line(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 32 || *s == 127) *s = ' ';
}

/* measured first, then formatted into Lua-owned memory of that size: nothing is cut */
static const char *push_formatted(lua_State *L, int make_one_line, const char *fmt, va_list ap) {
  va_list measure;
  va_copy(measure, ap);
  int n = vsnprintf(NULL, 0, fmt, measure);
  va_end(measure);
  size_t size = n > 0 ? (size_t)n + 1 : 1;
  luaL_Buffer b;
  char *text = luaL_buffinitsize(L, &b, size);
  text[0] = '\0';
  vsnprintf(text, size, fmt, ap);
  if (make_one_line) one_line(text);
  luaL_pushresultsize(&b, size - 1);
  return lua_tostring(L, -1);
}

const char *lmp_pushvformat(lua_State *L, const char *fmt, va_list ap) {
  return push_formatted(L, 0, fmt, ap);
}

static void push_errorv(lua_State *L, int code, const char *fmt, va_list ap) {
  const char *msg = push_formatted(L, 1, fmt, ap);
  push_error(L, code, msg);
  lua_remove(L, -2);
}

void lmp_push_errorf(lua_State *L, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_errorv(L, code, fmt, ap);
  va_end(ap);
}

int lmp_raise(lua_State *L, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_errorv(L, code, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

/* lmp.core.error(code, message): raise an lmp.Error from Lua. */
static int l_raise(lua_State *L) {
  int code = (int)luaL_checkinteger(L, 1);
  const char *msg = luaL_checkstring(L, 2);
  push_error(L, code, msg);
  return lua_error(L);
}

int lmp_error_code(lua_State *L, int idx) {
  int code = -1;
  idx = lua_absindex(L, idx);
  if (lua_istable(L, idx) && lua_getmetatable(L, idx)) {
    luaL_getmetatable(L, ERROR_MT);
    if (lua_rawequal(L, -1, -2)) {
      lua_getfield(L, idx, "code");
      code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : LMP_EXIT_USAGE;
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  return code;
}

/* lmp.core.is_error(v): true for an lmp.Error object. */
static int l_is_error(lua_State *L) {
  lua_pushboolean(L, lmp_error_code(L, 1) >= 0);
  return 1;
}

int luaopen_lmp_errors(lua_State *L) {
  static const luaL_Reg fns[] = {{"error", l_raise}, {"is_error", l_is_error}, {NULL, NULL}};
  push_error_metatable(L);
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  lua_createtable(L, 0, 6);
  static const struct { const char *name; int code; } codes[] = {
      {"OK", LMP_EXIT_OK},       {"INCOMPLETE", LMP_EXIT_INCOMPLETE}, {"USAGE", LMP_EXIT_USAGE},
      {"CALC", LMP_EXIT_CALC},   {"CHECK", LMP_EXIT_CHECK},           {"INTERNAL", LMP_EXIT_INTERNAL}};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    lua_pushinteger(L, codes[i].code);
    lua_setfield(L, -2, codes[i].name);
  }
  lua_setfield(L, -2, "EXIT");
  return 1;
}
