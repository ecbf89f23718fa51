/* Strict JSON (RFC 8259) parser into an arena-allocated tree. Integers that fit in 64 bits
 * stay exact (lua-cjson turns every number into a double); every value keeps its
 * line:column so that validation errors can point at the place in the file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* Short strings (keys, class names, templates) recur thousands of times in a model file:
 * each distinct one is stored once. Open addressing over malloc'd slots. */
#define INTERN_MAX_LEN 64
/* past this many distinct strings (layer names are all distinct) new ones are only looked
 * up, not added: the table stays small enough to stay in cache */
#define INTERN_MAX_ENTRIES 65536
typedef struct {
  const char **slots;
  uint32_t *lens;
  size_t cap, used;
} Interner;

typedef struct {
  Arena *arena;   /* values, key arrays */
  Arena *strings; /* string bytes */
  Interner interner;
  const char *p, *end, *line_start;
  int line;
  int depth;
  char *err;
  size_t errlen;
  size_t values, max_values; /* LMP_MAX_JSON_VALUES: each costs 40 bytes here, ~100 in Lua */
} Parser;

#define JSON_MAX_VALUES_DEFAULT ((size_t)100000000)

/* eight bytes at a time: this hashes every key and short value of a model file */
static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
  for (; n >= 8; s += 8, n -= 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  w = 0;
  memcpy(&w, s, n);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 29);
}

/* the stored copy of s[0..n), interned when short; NULL when out of memory */
static const char *store_string(Parser *ps, const char *s, size_t n) {
  if (n > INTERN_MAX_LEN) return arena_strndup(ps->strings, s, n);
  Interner *in = &ps->interner;
  if (in->used * 2 >= in->cap && in->used < INTERN_MAX_ENTRIES) {
    size_t cap = in->cap ? in->cap * 2 : 1024;
    const char **slots = calloc(cap, sizeof *slots);
    uint32_t *lens = calloc(cap, sizeof *lens);
    if (slots == NULL || lens == NULL) {
      free(slots);
      free(lens);
      return NULL;
    }
    for (size_t i = 0; i < in->cap; i++) {
      if (in->slots[i] == NULL) continue;
      size_t j = hash_bytes(in->slots[i], in->lens[i]) & (cap - 1);
      while (slots[j] != NULL) j = (j + 1) & (cap - 1);
      slots[j] = in->slots[i];
      lens[j] = in->lens[i];
    }
    free(in->slots);
    free(in->lens);
    in->slots = slots;
    in->lens = lens;
    in->cap = cap;
  }
  size_t j = hash_bytes(s, n) & (in->cap - 1);
  while (in->slots[j] != NULL) {
    if (in->lens[j] == n && memcmp(in->slots[j], s, n) == 0) return in->slots[j];
    j = (j + 1) & (in->cap - 1);
  }
  char *copy = arena_strndup(ps->strings, s, n);
  if (copy == NULL || in->used * 2 >= in->cap) return copy; /* full: not added */
  in->slots[j] = copy;
  in->lens[j] = (uint32_t)n;
  in->used++;
  return copy;
}

static int col_of(const Parser *ps) {
  return (int)(ps->p - ps->line_start) + 1;
}

/* "line:col: " and the message, at the parser's position (JSON_ERR_SIZE holds every one) */
static int fail_at(Parser *ps, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_at(Parser *ps, int line, int col, const char *fmt, ...) {
  int n = snprintf(ps->err, ps->errlen, "%d:%d: ", line, col);
  if (n >= 0 && (size_t)n < ps->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}
#define fail(ps, ...) fail_at(ps, (ps)->line, col_of(ps), __VA_ARGS__)

static void skip_ws(Parser *ps) {
  while (ps->p < ps->end) {
    char c = *ps->p;
    if (c == '\n') {
      ps->line++;
      ps->p++;
      ps->line_start = ps->p;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ps->p++;
    } else {
      break;
    }
  }
}

static int parse_value(Parser *ps, JsonValue *v);

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* On entry p points at the opening quote. */
static int parse_string(Parser *ps, const char **out, uint32_t *outlen) {
  const char *s = ++ps->p;
  int simple = 1;
  while (s < ps->end && *s != '"') {
    if ((unsigned char)*s < 0x20) { ps->p = s; return fail(ps, "control character in string"); }
    if (*s == '\\') {
      simple = 0;
      s++; /* the escaped character cannot end the string */
    }
    s++;
  }
  if (s > ps->end) s = ps->end;
  if (s >= ps->end) return fail(ps, "unterminated string");
  if ((size_t)(s - ps->p) > UINT32_MAX) return fail(ps, "string longer than 4 GiB");
  if (simple) {
    *out = store_string(ps, ps->p, (size_t)(s - ps->p));
    *outlen = (uint32_t)(s - ps->p);
    ps->p = s + 1;
    return *out ? 0 : fail(ps, "out of memory");
  }
  /* escapes never grow: \uXXXX (6 bytes) -> at most 3 bytes, a surrogate pair (12) -> 4 */
  char *buf = arena_alloc(ps->strings, (size_t)(s - ps->p) + 1);
  if (buf == NULL) return fail(ps, "out of memory");
  char *o = buf;
  while (ps->p < s) {
    char c = *ps->p++;
    if (c != '\\') { *o++ = c; continue; }
    char e = *ps->p++;
    switch (e) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp;
        if (s - ps->p < 4 || hex4(ps->p, &cp) != 0) { ps->p -= 2; return fail(ps, "bad \\u escape"); }
        ps->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (s - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) != 0 ||
              lo < 0xDC00 || lo > 0xDFFF) {
            return fail(ps, "unpaired UTF-16 surrogate in \\u escape");
          }
          ps->p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail(ps, "unpaired UTF-16 surrogate in \\u escape");
        }
        o += put_utf8(o, cp);
        break;
      }
      default: ps->p -= 2; return fail(ps, "bad escape in string");
    }
  }
  *o = '\0';
  *out = buf;
  *outlen = (uint32_t)(o - buf);
  ps->p = s + 1;
  return 0;
}

/* Infinity and -Infinity, as Python's json writes float("inf") (transformers' Mamba2Config saves
 * time_step_limit as [0.0, Infinity]): the value 1e999 already parses to */
static int parse_infinity(Parser *ps, JsonValue *v, const char *q, int negative) {
  if ((size_t)(ps->end - q) < 8 || memcmp(q, "Infinity", 8) != 0) return fail(ps, "invalid number");
  v->type = JSON_NUM;
  v->number = negative ? -HUGE_VAL : HUGE_VAL;
  ps->p = q + 8;
  return 0;
}

static int parse_number(Parser *ps, JsonValue *v) {
  const char *s = ps->p;
  const char *q = s;
  if (q < ps->end && *q == '-') q++;
  if (q < ps->end && *q == 'I') return parse_infinity(ps, v, q, q > s);
  if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, "invalid number");
  if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9') return fail(ps, "leading zero in number");
  while (q < ps->end && *q >= '0' && *q <= '9') q++;
  int is_int = 1;
  if (q < ps->end && *q == '.') {
    is_int = 0;
    q++;
    if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, "invalid number");
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < ps->end && (*q == 'e' || *q == 'E')) {
    is_int = 0;
    q++;
    if (q < ps->end && (*q == '+' || *q == '-')) q++;
    if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, "invalid number");
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  }
  char tmp[400];
  size_t n = (size_t)(q - s);
  if (n >= sizeof tmp) return fail(ps, "number too long");
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (is_int) {
    errno = 0;
    long long x = strtoll(tmp, NULL, 10);
    if (errno == ERANGE) return fail(ps, "integer out of the 64-bit range");
    v->type = JSON_INT;
    v->integer = x;
  } else {
    v->type = JSON_NUM;
    v->number = strtod(tmp, NULL);
  }
  ps->p = q;
  return 0;
}

static int literal(Parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, "invalid value");
  ps->p += n;
  return 0;
}

/* Items collect in a small inline buffer (most objects have a handful of keys), spilling
 * to malloc when it fills; finish() copies them into the arena. */
#define GROWTH_INLINE 16
typedef struct {
  JsonValue *items;
  const char **keys;
  size_t n, cap;
  JsonValue inline_items[GROWTH_INLINE];
  const char *inline_keys[GROWTH_INLINE];
  uint32_t *seen; /* past GROWTH_INLINE keys: open-addressed indices + 1 into keys, so that
                   * finding a duplicate stays linear (a scan per key was quadratic) */
  size_t seen_cap;
} Growth;

static void seen_put(Growth *g, size_t i) {
  size_t j = hash_bytes(g->keys[i], strlen(g->keys[i])) & (g->seen_cap - 1);
  while (g->seen[j] != 0) j = (j + 1) & (g->seen_cap - 1);
  g->seen[j] = (uint32_t)i + 1;
}

/* 1 when key is already one of g's g->n keys; -1 when out of memory */
static int key_seen(Growth *g, const char *key) {
  if (g->n < GROWTH_INLINE) {
    for (size_t i = 0; i < g->n; i++)
      if (strcmp(g->keys[i], key) == 0) return 1;
    return 0;
  }
  if ((g->n + 1) * 2 > g->seen_cap) { /* (re)build at half load */
    size_t cap = g->seen_cap ? g->seen_cap * 2 : 4 * GROWTH_INLINE;
    uint32_t *seen = calloc(cap, sizeof *seen);
    if (seen == NULL) return -1;
    free(g->seen);
    g->seen = seen;
    g->seen_cap = cap;
    for (size_t i = 0; i < g->n; i++) seen_put(g, i);
  }
  size_t len = strlen(key);
  for (size_t j = hash_bytes(key, len) & (g->seen_cap - 1); g->seen[j] != 0; j = (j + 1) & (g->seen_cap - 1))
    if (strcmp(g->keys[g->seen[j] - 1], key) == 0) return 1;
  return 0;
}

/* records key g->keys[g->n] (just stored) in the set */
static void key_added(Growth *g) {
  if (g->seen != NULL) seen_put(g, g->n);
}

static int grow(Growth *g, int with_keys) {
  if (g->cap == 0) {
    g->items = g->inline_items;
    g->keys = g->inline_keys;
    g->cap = GROWTH_INLINE;
    return 0;
  }
  if (g->n < g->cap) return 0;
  size_t cap = g->cap * 2;
  int spilled = g->items != g->inline_items;
  JsonValue *items = realloc(spilled ? g->items : NULL, cap * sizeof *items);
  if (items == NULL) return -1;
  if (!spilled) memcpy(items, g->inline_items, g->n * sizeof *items);
  g->items = items;
  if (with_keys) {
    const char **keys = realloc(spilled ? g->keys : NULL, cap * sizeof *keys);
    if (keys == NULL) return -1;
    if (!spilled) memcpy(keys, g->inline_keys, g->n * sizeof *keys);
    g->keys = keys;
  }
  g->cap = cap;
  return 0;
}

static void growth_free(Growth *g) {
  free(g->seen);
  if (g->items != g->inline_items) free(g->items);
  if (g->keys != g->inline_keys) free(g->keys);
}

static int finish(Parser *ps, Growth *g, JsonValue *v, int with_keys) {
  if (g->n > UINT32_MAX) return -1;
  v->n = (uint32_t)g->n;
  if (g->n > 0) {
    v->items = arena_alloc(ps->arena, g->n * sizeof *v->items);
    if (v->items == NULL) return -1;
    memcpy(v->items, g->items, g->n * sizeof *v->items);
    if (with_keys) {
      v->keys = arena_alloc(ps->arena, g->n * sizeof *v->keys);
      if (v->keys == NULL) return -1;
      memcpy(v->keys, g->keys, g->n * sizeof *v->keys);
    }
  }
  return 0;
}

static int parse_container(Parser *ps, JsonValue *v, int is_obj) {
  if (++ps->depth > JSON_MAX_DEPTH) return fail(ps, "nesting deeper than 256 levels");
  char close = is_obj ? '}' : ']';
  v->type = is_obj ? JSON_OBJ : JSON_ARR;
  ps->p++;
  Growth g;
  g.items = NULL;
  g.keys = NULL;
  g.n = g.cap = 0;
  g.seen = NULL;
  g.seen_cap = 0;
  int rc = -1;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    rc = 0;
    goto done;
  }
  for (;;) {
    skip_ws(ps);
    if (grow(&g, is_obj) != 0) { fail(ps, "out of memory"); goto done; }
    JsonValue *item = &g.items[g.n];
    if (is_obj) {
      if (ps->p >= ps->end || *ps->p != '"') {
        if (ps->p < ps->end && (unsigned char)*ps->p >= 0x20 && (unsigned char)*ps->p < 0x7f)
          fail(ps, "expected a string key, found '%c'", *ps->p);
        else
          fail(ps, "expected a string key");
        goto done;
      }
      const char *key;
      uint32_t keylen;
      int kline = ps->line, kcol = col_of(ps);
      if (parse_string(ps, &key, &keylen) != 0) goto done;
      int seen = key_seen(&g, key);
      if (seen < 0) { fail(ps, "out of memory"); goto done; }
      if (seen) {
        fail_at(ps, kline, kcol, "duplicate key \"%.200s\"", key);
        goto done;
      }
      g.keys[g.n] = key;
      key_added(&g);
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') { fail(ps, "expected ':' after key"); goto done; }
      ps->p++;
      skip_ws(ps);
    }
    if (parse_value(ps, item) != 0) goto done;
    g.n++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
    if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
    fail(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    goto done;
  }
  rc = finish(ps, &g, v, is_obj);
  if (rc != 0) fail(ps, "out of memory");
done:
  growth_free(&g);
  ps->depth--;
  return rc;
}

static int parse_value(Parser *ps, JsonValue *v) {
  memset(v, 0, sizeof *v);
  if (++ps->values > ps->max_values)
    return fail(ps, "more than %zu JSON values (the limit; LMP_MAX_JSON_VALUES raises it)", ps->max_values);
  v->line = (uint32_t)ps->line;
  v->col = (uint32_t)col_of(ps);
  if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
  switch (*ps->p) {
    case '{': return parse_container(ps, v, 1);
    case '[': return parse_container(ps, v, 0);
    case '"': v->type = JSON_STR; return parse_string(ps, &v->str, &v->len);
    case 't': v->type = JSON_BOOL; v->boolean = 1; return literal(ps, "true");
    case 'f': v->type = JSON_BOOL; v->boolean = 0; return literal(ps, "false");
    case 'n': v->type = JSON_NULL; return literal(ps, "null");
    default:
      if (*ps->p == '-' || *ps->p == 'I' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
      if ((unsigned char)*ps->p >= 0x20 && (unsigned char)*ps->p < 0x7f) return fail(ps, "unexpected character '%c'", *ps->p);
      return fail(ps, "unexpected byte");
  }
}

JsonValue *json_parse2(Arena *values, Arena *strings, const char *text, size_t len, char *err, size_t errlen) {
  Parser ps = {values, strings, {NULL, NULL, 0, 0}, text, text + len, text, 1, 0, err, errlen, 0,
                lmp_env_size("LMP_MAX_JSON_VALUES", JSON_MAX_VALUES_DEFAULT, SIZE_MAX)};
  JsonValue *v = arena_alloc(values, sizeof *v);
  if (v == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3; /* UTF-8 BOM */
  skip_ws(&ps);
  int rc = parse_value(&ps, v);
  if (rc == 0) {
    skip_ws(&ps);
    if (ps.p != ps.end) rc = fail(&ps, "unexpected text after the JSON value");
  }
  free(ps.interner.slots);
  free(ps.interner.lens);
  return rc == 0 ? v : NULL;
}

JsonValue *json_parse(Arena *a, const char *text, size_t len, char *err, size_t errlen) {
  return json_parse2(a, a, text, len, err, errlen);
}

const JsonValue *json_get(const JsonValue *obj, const char *key) {
  if (obj == NULL || obj->type != JSON_OBJ) return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
  return NULL;
}

const char *json_type_name(JsonType t) {
  static const char *const names[] = {"null", "a boolean", "an integer", "a number", "a string",
                                      "an array", "an object"};
  return names[t];
}

/* JSON null becomes lmp.null (a light userdata) so that arrays keep their length. */
void json_push_lua(lua_State *L, const JsonValue *v) {
  luaL_checkstack(L, 4, "JSON nesting");
  switch (v->type) {
    case JSON_NULL: lua_pushlightuserdata(L, NULL); break;
    case JSON_BOOL: lua_pushboolean(L, v->boolean); break;
    case JSON_INT: lua_pushinteger(L, (lua_Integer)v->integer); break;
    case JSON_NUM: lua_pushnumber(L, v->number); break;
    case JSON_STR: lua_pushlstring(L, v->str, v->len); break;
    case JSON_ARR:
      lua_createtable(L, (int)v->n, 0);
      for (size_t i = 0; i < v->n; i++) {
        json_push_lua(L, &v->items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      break;
    case JSON_OBJ:
      lua_createtable(L, 0, (int)v->n);
      for (size_t i = 0; i < v->n; i++) {
        json_push_lua(L, &v->items[i]);
        lua_setfield(L, -2, v->keys[i]);
      }
      break;
  }
}

/* core.json_decode(text [, source_name]) -> value; errors name source:line:col */
static int l_json_decode(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, "(json)");
  Arena *a = lmp_push_arena(L);
  char err[JSON_ERR_SIZE];
  JsonValue *v = json_parse(a, text, len, err, sizeof err);
  if (v == NULL) return lmp_raise(L, LMP_EXIT_USAGE, "%s:%s", name, err);
  json_push_lua(L, v);
  return 1;
}

int luaopen_lmp_json(lua_State *L) {
  static const luaL_Reg fns[] = {{"json_decode", l_json_decode}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
