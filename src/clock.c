/* Clocks for timeouts, elapsed times and benchmarks (monotonic: never dates), CPU time, and
 * sleeping. */
#include <sys/resource.h>
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

/* core.cpu_seconds() -> CPU seconds (user + system) of this process and of every child it
 * has waited for: the bounds the sandbox and the input limits promise are CPU time, which a
 * busy machine does not stretch as it stretches wall-clock time */
static int l_cpu_seconds(lua_State *L) {
  double total = 0;
  static const int who[] = {RUSAGE_SELF, RUSAGE_CHILDREN};
  for (int i = 0; i < 2; i++) {
    struct rusage ru;
    if (getrusage(who[i], &ru) != 0) continue;
    total += (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  }
  lua_pushnumber(L, total);
  return 1;
}

int luaopen_lmp_clock(lua_State *L) {
  static const luaL_Reg fns[] = {{"now_ms", l_now_ms}, {"now_us", l_now_us}, {"sleep_ms", l_sleep_ms},
                                 {"cpu_seconds", l_cpu_seconds}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
