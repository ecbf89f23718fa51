/* Coverage of the Lua side for libFuzzer. The Lua interpreter is Debian's shared liblua5.4,
 * not instrumented, so libFuzzer would see no difference between inputs that run different
 * Lua lines. A line hook maps each (chunk, previous line, line) edge into a counter array in
 * the __libfuzzer_extra_counters section, which libFuzzer reads as extra coverage (AFL-style
 * edges: the hash of the previous location shifted, xor the current one). Calculators run
 * under the sandbox's own count hook (sandbox_pcall saves and restores this one), so their
 * lines are not counted; the host's lua/lmp code is. */
#ifndef LMP_FUZZ_LUA_COVERAGE_H
#define LMP_FUZZ_LUA_COVERAGE_H

#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#define LUA_COVERAGE_SIZE (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t lua_coverage[LUA_COVERAGE_SIZE];
static uint32_t lua_coverage_prev;

static void lua_coverage_hook(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar)) return;
  /* ar->source points into the function's prototype: stable while the chunk is loaded
   * (the host's modules are loaded once, before fuzzing starts) */
  uint64_t h = (uint64_t)(uintptr_t)ar->source * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uint32_t)ar->currentline * 0xC2B2AE3D27D4EB4Full;
  uint32_t cur = (uint32_t)(h >> 40);
  uint32_t idx = (cur ^ lua_coverage_prev) & (LUA_COVERAGE_SIZE - 1);
  if (lua_coverage[idx] != 0xff) lua_coverage[idx]++;
  lua_coverage_prev = cur >> 1;
}

static void lua_coverage_start(lua_State *L) {
  lua_sethook(L, lua_coverage_hook, LUA_MASKLINE, 0);
}

/* fuzz_feature(s): one more counter for the kind of message s is, so that an input ending
 * in a new kind of outcome (an error no input gave before) is kept. For the code the line
 * hook does not see: calculators run under the sandbox's hook, and the Lua parser and VM
 * are not instrumented. The kind: the first 64 bytes without digits and quoted parts
 * ('x', "x": names, input echoed back), into one of 1024 counters, so that messages that
 * quote the input cannot add features without bound. */
static inline int lua_coverage_feature(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  uint32_t h = 2166136261u;
  char quote = 0;
  for (size_t i = 0, kept = 0; i < len && kept < 64; i++) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c < '0' || c > '9') {
      h = (h ^ (uint8_t)c) * 16777619u;
      kept++;
    }
  }
  uint32_t idx = h & 1023u;
  if (lua_coverage[idx] != 0xff) lua_coverage[idx]++;
  return 0;
}

#endif
