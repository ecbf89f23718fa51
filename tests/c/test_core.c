/* C unit tests for logic not reachable from Lua in isolation: the JSON parser's exact
 * integers and positions, the formula engine's rationals and errors, the sizes of both's
 * message buffers, 128-bit printing, and that only calculator objects pass calc_spec. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lualib.h>

#include "lmp.h"

static int failures = 0;
#define CHECK(cond, ...)                              \
  do {                                                \
    if (!(cond)) {                                    \
      failures++;                                     \
      fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                   \
      fputc('\n', stderr);                            \
    }                                                 \
  } while (0)

static int vars(void *ud, int is_ref, const char *name, FValue *out, char *err, size_t errlen) {
  (void)ud;
  memset(out, 0, sizeof *out);
  out->den = 1;
  if (is_ref && strcmp(name, "Inner") == 0) { out->num = 100; return 0; }
  if (strcmp(name, "n") == 0) { out->num = 7; return 0; }
  if (strcmp(name, "bits") == 0) { out->num = 4; return 0; }
  if (strcmp(name, "big") == 0) { out->num = (i128)INT64_MAX; return 0; }
  if (strcmp(name, "mode") == 0) { out->str = "tanh"; out->slen = 4; return 0; }
  snprintf(err, errlen, "unknown parameter '%s'", name);
  return -1;
}

/* evaluates src; returns 0 and the integer value, or -1 with err */
static int eval(const char *src, i128 *value, char *err) {
  Arena *a = arena_new();
  Formula *f = formula_parse(a, src, err, FORMULA_ERR_SIZE);
  FValue v;
  int rc = -1;
  if (f != NULL && formula_eval(f, vars, NULL, &v, err, FORMULA_ERR_SIZE) == 0) {
    if (v.den == 1 && v.str == NULL) {
      *value = v.num;
      rc = 0;
    } else {
      snprintf(err, FORMULA_ERR_SIZE, "not an integer");
    }
  }
  arena_free(a);
  return rc;
}

static void expect_value(const char *src, long long want) {
  i128 v = 0;
  char err[FORMULA_ERR_SIZE] = "";
  int rc = eval(src, &v, err);
  CHECK(rc == 0 && v == want, "formula %s: wanted %lld, got %s (%s)", src, want, rc == 0 ? "a different value" : "an error", err);
}

static void expect_error(const char *src, const char *fragment) {
  i128 v;
  char err[FORMULA_ERR_SIZE] = "";
  int rc = eval(src, &v, err);
  CHECK(rc != 0 && strstr(err, fragment) != NULL, "formula %s: wanted an error containing '%s', got '%s'", src, fragment, err);
}

static void test_formulas(void) {
  expect_value("2 * ${n} + 1", 15);
  expect_value("ceil(${n} * ${bits} / 8)", 4);      /* 28/8 = 3.5 -> 4 */
  expect_value("floor(${n} * ${bits} / 8)", 3);
  expect_value("${n} // 2", 3);
  expect_value("-${n} // 2", -4);                   /* floor division rounds down */
  expect_value("${n} % 3", 1);
  expect_value("min(5, ${n}, 9) + max(1, 2)", 7);
  expect_value("${n} > 5 ? 10 : 20", 10);
  expect_value("${mode} == 'tanh' ? 9 : 5", 9);
  expect_value("true + false + !0", 2);
  expect_value("${n} >= 7 && ${n} != 8 || 0", 1);
  expect_value("0.5 * 4", 2);
  expect_value("{Inner} * 2", 200);
  expect_value("(1 + 2) * (3 + 4)", 21);
  expect_value("${big} * 2 // 2", INT64_MAX);       /* 128-bit intermediates */
  expect_error("${nope} + 1", "unknown parameter 'nope'");
  expect_error("1 +", "unexpected end");
  expect_error("(1 + 2", "expected ')'");
  expect_error("${n} / 0", "division by zero");
  expect_error("foo(1)", "unknown name 'foo'");
  expect_error("${n} + 'x'", "strings can only be compared");
  expect_error("-'x'", "a string where a number is needed");
  expect_error("1 2", "unexpected text");
  char deep[300];
  memset(deep, '(', 100);
  strcpy(deep + 100, "1");
  memset(deep + 101, ')', 100);
  deep[201] = '\0';
  expect_error(deep, "nested too deeply");
}

/* inputs the fuzz targets (tests/fuzz) found, one check each; docs/fuzzing.md tells the story */
static void test_fuzz_regressions(void) {
  /* decimal literals were kept unreduced (2.0 as 20/10): not an integer on their own or
   * through min/max, and a needless overflow in later products */
  expect_value("2.0", 2);
  expect_value("min(${n}, 4.00)", 4);
  expect_value("1.88 * 50", 94);
  /* -2^127 (reachable as a sum) was negated inside gcd: signed overflow (UBSan) */
  i128 v = 0;
  char err[FORMULA_ERR_SIZE] = "";
  CHECK(eval("-170141183460469231731687303715884105727 - 1", &v, err) == 0 && v == -(i128)((~(unsigned __int128)0) >> 1) - 1,
        "-2^127: %s", err);
  expect_error("-(-170141183460469231731687303715884105727 - 1)", "integer overflow");
  expect_value("(-170141183460469231731687303715884105727 - 1) // 2 * 0", 0);
}

/* the longest messages fit FORMULA_ERR_SIZE / JSON_ERR_SIZE whole: the sizes lmp.h derives */
static void test_message_bounds(void) {
  static char src[FORMULA_MAX_LEN + 1], err[FORMULA_ERR_SIZE], want[FORMULA_ERR_SIZE];
  size_t name = FORMULA_MAX_LEN - 3; /* ${name}: the longest formula */
  memcpy(src, "${", 2);
  memset(src + 2, 'v', name);
  strcpy(src + 2 + name, "}");
  i128 v;
  CHECK(eval(src, &v, err) != 0, "a formula of an unknown %zu-byte name evaluated", name);
  snprintf(want, sizeof want, "column 1: unknown parameter '%.*s'", (int)name, src + 2);
  CHECK(strcmp(err, want) == 0, "the lookup's message was cut: %zu of %zu bytes", strlen(err), strlen(want));
  static char json[700];
  snprintf(json, sizeof json, "{\"%0300d\": 1, \"%0300d\": 2}", 0, 0);
  Arena *a = arena_new();
  char jerr[JSON_ERR_SIZE];
  const char *quoted = json_parse(a, json, strlen(json), jerr, sizeof jerr) == NULL ? strchr(jerr, '"') : NULL;
  CHECK(quoted && strlen(quoted) == 202, "duplicate key: its first 200 bytes, quoted: %s", jerr); /* cut by design */
  arena_free(a);
}

static void test_json(void) {
  char err[JSON_ERR_SIZE];
  Arena *a = arena_new();
  const char *text = "{\"a\": 9007199254740993, \"b\": [1, 2.5, \"x\\u00e9\"], \"c\": null}";
  JsonValue *v = json_parse(a, text, strlen(text), err, sizeof err);
  CHECK(v != NULL, "parse failed: %s", err);
  if (v) {
    const JsonValue *av = json_get(v, "a");
    CHECK(av && av->type == JSON_INT && av->integer == 9007199254740993LL, "2^53+1 not exact");
    const JsonValue *b = json_get(v, "b");
    CHECK(b && b->n == 3 && b->items[1].type == JSON_NUM && strcmp(b->items[2].str, "x\xc3\xa9") == 0, "array");
  }
  const char *bad = "{\n  \"a\": [1, 2,, 3]\n}";
  CHECK(json_parse(a, bad, strlen(bad), err, sizeof err) == NULL && strncmp(err, "2:14: unexpected character ','", 29) == 0,
        "bad JSON error position: %s", err);
  const char *dupkey = "{\"a\": 1, \"a\": 2}";
  CHECK(json_parse(a, dupkey, strlen(dupkey), err, sizeof err) == NULL && strstr(err, "duplicate key"), "duplicate key: %s", err);
  const char *huge = "99999999999999999999";
  CHECK(json_parse(a, huge, strlen(huge), err, sizeof err) == NULL && strstr(err, "64-bit"), "huge int: %s", err);
  const char *inf = "[0.0, Infinity, -Infinity, 1e999]"; /* Python's json output for float("inf") */
  JsonValue *iv = json_parse(a, inf, strlen(inf), err, sizeof err);
  CHECK(iv && iv->n == 4 && iv->items[1].type == JSON_NUM && isinf(iv->items[1].number) && iv->items[1].number > 0 &&
        iv->items[2].number < 0 && isinf(iv->items[2].number) && iv->items[3].number == iv->items[1].number, "Infinity: %s", err);
  const char *infbad = "[Infinit]";
  CHECK(json_parse(a, infbad, strlen(infbad), err, sizeof err) == NULL && strstr(err, "invalid number"), "Infinit: %s", err);
  arena_free(a);
}

static void test_i128(void) {
  char buf[48];
  i128 v = (i128)INT64_MAX * 1000 + 7;
  i128_to_str(v, buf);
  CHECK(strcmp(buf, "9223372036854775807007") == 0, "i128_to_str: %s", buf);
  i128_to_str(-42, buf);
  CHECK(strcmp(buf, "-42") == 0, "negative: %s", buf);
}

/* calc_spec answers NULL for every value that is not a calculator object, however it looks */
static void test_calc_spec(void) {
  lua_State *L = luaL_newstate();
  lua_newtable(L);
  CHECK(calc_spec(L, -1) == NULL, "a table is not a calculator");
  lua_newuserdatauv(L, sizeof(CalcSpec), 0);
  CHECK(calc_spec(L, -1) == NULL, "a bare userdata is not a calculator");
  luaL_newmetatable(L, LMP_CALCULATOR); /* the name alone does not make one */
  lua_setmetatable(L, -2);
  CHECK(calc_spec(L, -1) == NULL, "a userdata named " LMP_CALCULATOR " is not a calculator");
  lua_pushlightuserdata(L, L);
  CHECK(calc_spec(L, -1) == NULL, "a light userdata is not a calculator");
  lua_close(L);
}

int main(void) {
  test_calc_spec();
  test_formulas();
  test_fuzz_regressions();
  test_json();
  test_message_bounds();
  test_i128();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c unit tests: all passed\n");
  return 0;
}
