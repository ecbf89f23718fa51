/* Clocks for timeouts, elapsed times and benchmarks (monotonic: never dates), and sleeping. */
#include <time.h>

#include "lmp.h"

/* core.sleep_ms(ms) */
static int l_sleep_ms(lua_State *L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  if (ms > 0) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}

/* core.now_us() -> monotonic microseconds, for benchmarks */
static int l_now_us(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
  return 1;
}

/* core.now_ms() -> milliseconds of a monotonic clock (for timeouts and elapsed times, not dates) */
static int l_now_ms(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  return 1;
}

int luaopen_lmp_clock(lua_State *L) {
  static const luaL_Reg fns[] = {{"now_ms", l_now_ms}, {"now_us", l_now_us}, {"sleep_ms", l_sleep_ms}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
