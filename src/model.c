/* The standard model JSON (docs/model-format.md) -> a validated tree of Nodes.
 * Every error names the file, the line:column and the JSON path of the offending node. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "lmp.h"

/* template string (interned, so compared by address) -> its parsed Formula */
typedef struct {
  const char **keys;
  Formula **values;
  size_t cap, used;
} FormulaCache;

/* Limits, each overridable from the environment (a number, e.g. LMP_MAX_LAYERS=50000000) */
#define DEFAULT_MAX_LAYERS ((size_t)20000000)     /* LMP_MAX_LAYERS */

typedef struct {
  lua_State *L;
  Model *m;
  size_t max_layers;
  Arena *scratch;      /* freed once the tree is built: the JSON values, this cache */
  FormulaCache formulas;
  char *path;          /* JSON path of the value being checked (in scratch, grown to fit) */
  size_t path_cap;
} Loader;

static void release_text(lua_State *L, int idx);
static int load_fail(Loader *ld, const JsonValue *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int load_fail(Loader *ld, const JsonValue *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lmp_pushvformat(ld->L, fmt, ap);
  va_end(ap);
  return lmp_raise(ld->L, LMP_EXIT_USAGE, "%s:%u:%u: %s: %s", ld->m->file, at->line, at->col, ld->path, msg);
}

/* room for a path of `size` bytes (its NUL included): doubled, the old copy left in scratch */
static void path_reserve(Loader *ld, size_t size) {
  if (size <= ld->path_cap) return;
  size_t cap = ld->path_cap * 2 > size ? ld->path_cap * 2 : size;
  char *p = arena_alloc(ld->scratch, cap);
  if (p == NULL) luaL_error(ld->L, "out of memory");
  if (ld->path_cap > 0) memcpy(p, ld->path, ld->path_cap);
  ld->path = p;
  ld->path_cap = cap;
}

/* The JSON path grows as the loader descends; each push returns the length to cut back to.
 * (Plain copies, not snprintf: this runs for every key of every layer.) */
static size_t path_push_key(Loader *ld, const char *key) {
  size_t len = strlen(ld->path), klen = strlen(key);
  path_reserve(ld, len + 1 + klen + 1);
  ld->path[len] = '.';
  memcpy(ld->path + len + 1, key, klen + 1);
  return len;
}

static size_t path_push_index(Loader *ld, size_t idx) {
  size_t len = strlen(ld->path);
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + idx % 10);
    idx /= 10;
  } while (idx != 0);
  path_reserve(ld, len + (size_t)n + 3);
  char *o = ld->path + len;
  *o++ = '[';
  while (n > 0) *o++ = digits[--n];
  *o++ = ']';
  *o = '\0';
  return len;
}

/* the parsed formula for a template; identical templates (interned strings) share one */
static Formula *cached_formula(Loader *ld, const char *src, char *err, size_t errlen) {
  FormulaCache *c = &ld->formulas;
  if (c->used * 2 >= c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 256;
    const char **keys = arena_alloc(ld->scratch, cap * sizeof *keys);
    Formula **values = arena_alloc(ld->scratch, cap * sizeof *values);
    if (keys == NULL || values == NULL) luaL_error(ld->L, "out of memory");
    memset(keys, 0, cap * sizeof *keys);
    for (size_t i = 0; i < c->cap; i++) {
      if (c->keys[i] == NULL) continue;
      size_t j = ((uintptr_t)c->keys[i] >> 4) & (cap - 1);
      while (keys[j] != NULL) j = (j + 1) & (cap - 1);
      keys[j] = c->keys[i];
      values[j] = c->values[i];
    }
    c->keys = keys;
    c->values = values;
    c->cap = cap;
  }
  size_t j = ((uintptr_t)src >> 4) & (c->cap - 1);
  while (c->keys[j] != NULL) {
    if (c->keys[j] == src) return c->values[j];
    j = (j + 1) & (c->cap - 1);
  }
  Formula *f = formula_parse(ld->m->arena, src, err, errlen);
  if (f != NULL) {
    c->keys[j] = src;
    c->values[j] = f;
    c->used++;
  }
  return f;
}

static void *alloc(Loader *ld, size_t n) {
  void *p = arena_alloc(ld->m->arena, n);
  if (p == NULL) luaL_error(ld->L, "out of memory");
  return p;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const Param *)a)->name, ((const Param *)b)->name);
}

static void load_params(Loader *ld, Node *node, const JsonValue *obj) {
  node->nparams = obj->n;
  node->params = obj->n ? alloc(ld, obj->n * sizeof(Param)) : NULL;
  for (size_t i = 0; i < obj->n; i++) {
    const JsonValue *v = &obj->items[i];
    Param *p = &node->params[i];
    memset(p, 0, sizeof *p);
    p->name = obj->keys[i];
    size_t mark = path_push_key(ld, obj->keys[i]);
    if (p->name[0] == '\0') load_fail(ld, v, "empty parameter name");
    switch (v->type) {
      case JSON_INT: p->kind = P_INT; p->i = v->integer; break;
      case JSON_BOOL: p->kind = P_BOOL; p->i = v->boolean; break;
      case JSON_NUM: p->kind = P_NUM; p->d = v->number; break;
      case JSON_STR:
        if (strstr(v->str, "${") != NULL || strchr(v->str, '{') != NULL) {
          char err[FORMULA_ERR_SIZE];
          p->kind = P_FORMULA;
          p->f = cached_formula(ld, v->str, err, sizeof err);
          if (p->f == NULL) load_fail(ld, v, "formula \"%s\": %s", v->str, err);
        } else {
          p->kind = P_STR;
          p->s = v->str;
          p->slen = v->len;
        }
        break;
      default:
        load_fail(ld, v, "a parameter must be an integer, a number, a boolean, a string or a \"${...}\" formula, not %s",
                  json_type_name(v->type));
    }
    ld->path[mark] = '\0';
  }
  if (node->nparams > 1) qsort(node->params, node->nparams, sizeof(Param), by_name); /* params is NULL when empty */
}

static void load_layers(Loader *ld, Node *parent, const JsonValue *arr, Node **out, size_t *nout, int depth);

static void load_node(Loader *ld, Node *node, Node *parent, size_t index, const JsonValue *v, int depth,
                      int64_t multiplier) {
  memset(node, 0, sizeof *node);
  node->parent = parent;
  node->index = index;
  node->line = v->line;
  node->col = v->col;
  node->repeat = 1;
  node->active = -1;
  if (++ld->m->n_nodes > ld->max_layers)
    load_fail(ld, v, "more than %zu layers (the limit; LMP_MAX_LAYERS raises it)", ld->max_layers);
  if (v->type != JSON_OBJ) load_fail(ld, v, "a layer must be an object, not %s", json_type_name(v->type));
  const JsonValue *sub = NULL, *params = NULL;
  for (size_t i = 0; i < v->n; i++) {
    const char *k = v->keys[i];
    const JsonValue *x = &v->items[i];
    size_t mark = path_push_key(ld, k);
    if (strcmp(k, "name") == 0 || strcmp(k, "class") == 0 || strcmp(k, "weights_tied_to") == 0 ||
        strcmp(k, "note") == 0) {
      if (x->type != JSON_STR) load_fail(ld, x, "expected a string, got %s", json_type_name(x->type));
      if (x->len == 0 && strcmp(k, "note") != 0) load_fail(ld, x, "must not be empty");
      if (strlen(x->str) != x->len) load_fail(ld, x, "must not contain a NUL character");
      if (k[0] == 'n' && k[1] == 'a') node->name = x->str;
      else if (k[0] == 'c') node->cls = x->str;
      else if (k[0] == 'w') node->tied_to = x->str;
    } else if (strcmp(k, "repeat") == 0) {
      if (x->type != JSON_INT || x->integer < 1)
        load_fail(ld, x, "expected an integer >= 1, got %s", x->type == JSON_INT ? "a smaller integer" : json_type_name(x->type));
      node->repeat = x->integer;
      if (__builtin_mul_overflow(multiplier, x->integer, &multiplier))
        load_fail(ld, x, "the product of the repeat counts down to this layer exceeds 2^63-1");
    } else if (strcmp(k, "active") == 0) {
      if (x->type == JSON_INT && x->integer >= 0) {
        node->active = x->integer;
      } else if (x->type == JSON_STR) {
        char err[FORMULA_ERR_SIZE];
        node->active_src = x->str;
        node->active_f = formula_parse(ld->m->arena, x->str, err, sizeof err);
        if (node->active_f == NULL) load_fail(ld, x, "formula \"%s\": %s", x->str, err);
      } else {
        load_fail(ld, x, "expected an integer >= 0 or a \"${...}\" formula, got %s", json_type_name(x->type));
      }
    } else if (strcmp(k, "sub_layers") == 0) {
      if (x->type != JSON_ARR) load_fail(ld, x, "expected an array of layers, got %s", json_type_name(x->type));
      if (x->n == 0) load_fail(ld, x, "a composite layer needs at least one sub-layer");
      sub = x;
    } else if (strcmp(k, "parameters") == 0) {
      if (x->type != JSON_OBJ) load_fail(ld, x, "expected an object, got %s", json_type_name(x->type));
      params = x;
    } else {
      load_fail(ld, x, "unknown field \"%s\" (a layer has name, class, repeat, active, sub_layers, parameters, weights_tied_to, note)", k);
    }
    ld->path[mark] = '\0';
  }
  if (node->name == NULL) load_fail(ld, v, "a layer needs a \"name\"");
  if (node->cls == NULL) load_fail(ld, v, "layer \"%s\" needs a \"class\" (the full Python class name)", node->name);
  if (node->active > node->repeat) {
    size_t mark = path_push_key(ld, "active");
    load_fail(ld, v, "active (%lld) is more than repeat (%lld)", (long long)node->active, (long long)node->repeat);
    ld->path[mark] = '\0';
  }
  if (sub != NULL && params != NULL)
    load_fail(ld, v, "layer \"%s\" has both sub_layers and parameters: a composite layer's cost is its children's", node->name);
  if (params != NULL) {
    size_t mark = path_push_key(ld, "parameters");
    load_params(ld, node, params);
    ld->path[mark] = '\0';
  }
  if (sub != NULL) {
    if (depth >= MODEL_MAX_DEPTH) load_fail(ld, sub, "layers nested deeper than %d levels", MODEL_MAX_DEPTH);
    node->composite = 1;
    size_t mark = path_push_key(ld, "sub_layers");
    /* loaded after every key, so that the repeat check below sees this node's repeat */
    load_layers(ld, node, sub, &node->kids, &node->nkids, depth + 1);
    ld->path[mark] = '\0';
  } else {
    ld->m->n_basic++;
  }
}

static int64_t multiplier_of(const Node *n) {
  int64_t m = 1;
  for (; n != NULL; n = n->parent) m *= n->repeat; /* checked at load time */
  return m;
}

static void load_layers(Loader *ld, Node *parent, const JsonValue *arr, Node **out, size_t *nout, int depth) {
  Node *nodes = alloc(ld, arr->n * sizeof(Node));
  int64_t multiplier = multiplier_of(parent);
  for (size_t i = 0; i < arr->n; i++) {
    size_t mark = path_push_index(ld, i);
    load_node(ld, &nodes[i], parent, i, &arr->items[i], depth, multiplier);
    ld->path[mark] = '\0';
  }
  *out = nodes;
  *nout = arr->n;
}

void node_json_path(const Node *n, luaL_Buffer *b) {
  if (n == NULL) {
    luaL_addstring(b, "$.layers");
    return;
  }
  node_json_path(n->parent, b);
  if (n->parent != NULL) luaL_addstring(b, ".sub_layers");
  char idx[32];
  snprintf(idx, sizeof idx, "[%zu]", n->index);
  luaL_addstring(b, idx);
}

void node_dotted_path(const Node *n, luaL_Buffer *b) {
  if (n->parent != NULL) {
    node_dotted_path(n->parent, b);
    luaL_addchar(b, '.');
  }
  luaL_addstring(b, n->name);
}

/* weights_tied_to names another layer by its dotted path from the root. Every tie is resolved
 * through one hash table of the tie targets, filled in one walk of the tree: linear overall
 * (a search from the root per tie took hours for 10^6 ties). When several layers share a
 * dotted path, the first in tree order is the owner, as a search would find it. */
typedef struct {
  uint64_t hash;
  const char *path;
  size_t len;
  const Node *owner;
} TieTarget;
typedef struct {
  TieTarget *slots;
  size_t cap;
} TieTable;

#define FNV_START 0xcbf29ce484222325ULL
static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

static size_t count_ties(const Node *nodes, size_t n) {
  size_t ties = 0;
  for (size_t i = 0; i < n; i++) ties += (nodes[i].tied_to != NULL) + count_ties(nodes[i].kids, nodes[i].nkids);
  return ties;
}

/* the slot of `path`: its own, or the empty one it goes in */
static TieTarget *tie_slot(TieTable *t, uint64_t hash, const char *path, size_t len) {
  size_t j = hash & (t->cap - 1);
  while (t->slots[j].path != NULL &&
         !(t->slots[j].hash == hash && t->slots[j].len == len && memcmp(t->slots[j].path, path, len) == 0))
    j = (j + 1) & (t->cap - 1);
  return &t->slots[j];
}

static void add_targets(TieTable *t, const Node *nodes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *p = nodes[i].tied_to;
    if (p != NULL) {
      size_t len = strlen(p);
      uint64_t hash = fnv(FNV_START, p);
      TieTarget *slot = tie_slot(t, hash, p, len);
      if (slot->path == NULL) *slot = (TieTarget){hash, p, len, NULL};
    }
    add_targets(t, nodes[i].kids, nodes[i].nkids);
  }
}

/* 1 when n's dotted path is path[0..len) */
static int dotted_is(const Node *n, const char *path, size_t len) {
  size_t nl = strlen(n->name);
  if (nl > len || memcmp(path + len - nl, n->name, nl) != 0) return 0;
  if (n->parent == NULL) return nl == len;
  return nl < len && path[len - nl - 1] == '.' && dotted_is(n->parent, path, len - nl - 1);
}

/* every layer in tree order, its dotted path hashed on the way down: the first that is a target owns it */
static void find_owners(TieTable *t, const Node *nodes, size_t n, uint64_t parent_hash, int root) {
  for (size_t i = 0; i < n; i++) {
    uint64_t hash = fnv(root ? FNV_START : fnv(parent_hash, "."), nodes[i].name);
    for (size_t j = hash & (t->cap - 1); t->slots[j].path != NULL; j = (j + 1) & (t->cap - 1)) {
      TieTarget *slot = &t->slots[j];
      if (slot->hash == hash && slot->owner == NULL && dotted_is(&nodes[i], slot->path, slot->len)) {
        slot->owner = &nodes[i];
        break;
      }
    }
    find_owners(t, nodes[i].kids, nodes[i].nkids, hash, 0);
  }
}

static void check_ties_in(Loader *ld, TieTable *t, const Node *nodes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const Node *node = &nodes[i];
    if (node->tied_to != NULL) {
      const Node *owner = tie_slot(t, fnv(FNV_START, node->tied_to), node->tied_to, strlen(node->tied_to))->owner;
      if (owner == NULL || owner == node || owner->composite) {
        luaL_Buffer b;
        luaL_buffinit(ld->L, &b);
        node_json_path(node, &b);
        luaL_pushresult(&b);
        lmp_raise(ld->L, LMP_EXIT_USAGE, "%s:%d:%d: %s.weights_tied_to: \"%s\" %s", ld->m->file, node->line, node->col,
                  lua_tostring(ld->L, -1), node->tied_to,
                  owner == NULL ? "names no layer (use the dotted path from the root, e.g. transformer.wte)"
                                : "must name another basic layer");
      }
      /* a tie to a tied layer would let a cycle (a -> b -> a) count no layer's weights */
      if (owner->tied_to != NULL) {
        luaL_Buffer b;
        luaL_buffinit(ld->L, &b);
        node_json_path(node, &b);
        luaL_pushresult(&b);
        lmp_raise(ld->L, LMP_EXIT_USAGE, "%s:%d:%d: %s.weights_tied_to: \"%s\" is itself tied to \"%s\"; tie to the layer that owns the weights",
                  ld->m->file, node->line, node->col, lua_tostring(ld->L, -1), node->tied_to, owner->tied_to);
      }
    }
    check_ties_in(ld, t, node->kids, node->nkids);
  }
}

static void check_ties(Loader *ld, const Node *nodes, size_t n) {
  size_t ties = count_ties(nodes, n);
  if (ties == 0) return;
  TieTable t = {NULL, 16};
  while (t.cap < ties * 2) t.cap *= 2;
  t.slots = arena_alloc(ld->scratch, t.cap * sizeof *t.slots);
  if (t.slots == NULL) luaL_error(ld->L, "out of memory");
  memset(t.slots, 0, t.cap * sizeof *t.slots);
  add_targets(&t, nodes, n);
  find_owners(&t, nodes, n, 0, 1);
  check_ties_in(ld, &t, nodes, n);
}

static int model_gc(lua_State *L) {
  Model *m = luaL_checkudata(L, 1, MODEL_MT);
  arena_free(m->arena);
  m->arena = NULL;
  return 0;
}

Model *lmp_check_model(lua_State *L, int idx) {
  Model *m = luaL_checkudata(L, idx, MODEL_MT);
  luaL_argcheck(L, m->arena != NULL, idx, "model already freed");
  return m;
}

/* Builds the model userdata (pushed) from JSON text. The JSON values live in a scratch
 * arena freed once the tree is built; their strings, interned, stay in the model's arena. */
static void load_model_text(lua_State *L, const char *text, size_t len, const char *file, int text_box) {
  Model *m = lua_newuserdatauv(L, sizeof(Model), 1);
  memset(m, 0, sizeof *m);
  luaL_setmetatable(L, MODEL_MT);
  int model_idx = lua_gettop(L);
  m->arena = arena_new();
  if (m->arena == NULL) luaL_error(L, "out of memory");
  m->file = arena_strndup(m->arena, file, strlen(file));
  Arena *scratch = lmp_push_arena(L);
  int scratch_idx = lua_gettop(L);
  char err[JSON_ERR_SIZE];
  JsonValue *root = json_parse2(scratch, m->arena, text, len, err, sizeof err);
  if (root == NULL) lmp_raise(L, LMP_EXIT_USAGE, "%s:%s", file, err);
  if (text_box) release_text(L, text_box); /* the text is not needed any more */
  Loader ld = {L, m, lmp_env_size("LMP_MAX_LAYERS", DEFAULT_MAX_LAYERS, SIZE_MAX), scratch, {NULL, NULL, 0, 0}, NULL, 0};
  path_reserve(&ld, 256);
  strcpy(ld.path, "$");
  if (root->type != JSON_OBJ) load_fail(&ld, root, "a model file is an object with \"layers\", not %s", json_type_name(root->type));
  const JsonValue *layers = NULL;
  for (size_t i = 0; i < root->n; i++) {
    const char *k = root->keys[i];
    const JsonValue *x = &root->items[i];
    size_t mark = path_push_key(&ld, k);
    if (strcmp(k, "model_id") == 0 || strcmp(k, "note") == 0) {
      if (x->type != JSON_STR) load_fail(&ld, x, "expected a string, got %s", json_type_name(x->type));
      if (k[0] == 'm') m->model_id = x->str;
    } else if (strcmp(k, "config") == 0) {
      if (x->type != JSON_OBJ) load_fail(&ld, x, "expected an object (the Hugging Face config), got %s", json_type_name(x->type));
      json_push_lua(L, x);
      lua_setiuservalue(L, model_idx, 1);
    } else if (strcmp(k, "encoder_only") == 0) {
      if (x->type != JSON_BOOL) load_fail(&ld, x, "expected true or false, got %s", json_type_name(x->type));
      m->encoder_only = x->boolean;
    } else if (strcmp(k, "attention") == 0) {
      if (x->type != JSON_STR || !(strcmp(x->str, "eager") == 0 || strcmp(x->str, "sdpa") == 0 || strcmp(x->str, "flash") == 0))
        load_fail(&ld, x, "expected \"eager\", \"sdpa\" or \"flash\" (the attention its transformers class runs)");
      m->attention = x->str;
    } else if (strcmp(k, "layers") == 0) {
      if (x->type != JSON_ARR) load_fail(&ld, x, "expected an array of layers, got %s", json_type_name(x->type));
      if (x->n == 0) load_fail(&ld, x, "a model needs at least one layer");
      layers = x;
    } else {
      load_fail(&ld, x, "unknown field \"%s\" (a model file has model_id, config, encoder_only, attention, layers, note)", k);
    }
    ld.path[mark] = '\0';
  }
  if (layers == NULL) load_fail(&ld, root, "a model file needs \"layers\"");
  path_push_key(&ld, "layers");
  load_layers(&ld, NULL, layers, &m->roots, &m->nroots, 1);
  check_ties(&ld, m->roots, m->nroots);
  lmp_release_arena(L, scratch_idx);
  lua_settop(L, model_idx);
}

/* core.load_model_string(text, filename) -> Model userdata (uservalue 1: config table) */
static int l_load_model_string(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *file = luaL_checkstring(L, 2);
  load_model_text(L, text, len, file, 0);
  return 1;
}

/* core.load_model(path): reads the file into a buffer owned by a userdata (freed on error
 * too, and as soon as it is parsed) */
/* The model file's text: a read-only mapping of the file for a regular file (no copy, and
 * no zeroed pages to fill: on a VM that is most of the cost of a big model), else a buffer
 * read in; owned by a userdata so that an error frees it too. */
typedef struct {
  char *text;
  size_t len;
  int mapped;
} TextBox;

static int text_box_gc(lua_State *L) {
  TextBox *box = luaL_checkudata(L, 1, "lmp.Text");
  if (box->text != NULL) {
    if (box->mapped) munmap(box->text, box->len);
    else lmp_file_free(box->text);
  }
  box->text = NULL;
  return 0;
}

/* frees the text of the box at idx now */
static void release_text(lua_State *L, int idx) {
  lua_pushcfunction(L, text_box_gc);
  lua_pushvalue(L, idx);
  lua_call(L, 1, 0);
}

static int l_load_model(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  TextBox *box = lua_newuserdatauv(L, sizeof(TextBox), 0);
  memset(box, 0, sizeof *box);
  if (luaL_newmetatable(L, "lmp.Text")) {
    lua_pushcfunction(L, text_box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  int box_idx = lua_gettop(L);
  size_t max_bytes = lmp_max_file_bytes();
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > max_bytes)
    return lmp_raise(L, LMP_EXIT_USAGE, "%s: %lld bytes, over the limit of %zu (LMP_MAX_MODEL_BYTES raises it)", path,
                     (long long)st.st_size, max_bytes);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
      box->text = p;
      box->len = (size_t)st.st_size;
      box->mapped = 1;
    }
  }
  if (fd >= 0) close(fd);
  if (box->text == NULL) lmp_read_file(L, path, &box->text, &box->len);
  load_model_text(L, box->text, box->len, path, box_idx);
  return 1;
}

static int model_index(lua_State *L) {
  Model *m = lmp_check_model(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "model_id") == 0) {
    if (m->model_id) lua_pushstring(L, m->model_id);
    else lua_pushnil(L);
  } else if (strcmp(k, "file") == 0) {
    lua_pushstring(L, m->file);
  } else if (strcmp(k, "config") == 0) {
    lua_getiuservalue(L, 1, 1);
  } else if (strcmp(k, "layer_count") == 0) {
    lua_pushinteger(L, (lua_Integer)m->n_nodes);
  } else if (strcmp(k, "basic_layer_count") == 0) {
    lua_pushinteger(L, (lua_Integer)m->n_basic);
  } else if (strcmp(k, "encoder_only") == 0) {
    lua_pushboolean(L, m->encoder_only);
  } else if (strcmp(k, "attention") == 0) {
    if (m->attention) lua_pushstring(L, m->attention);
    else lua_pushnil(L);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

static int model_tostring(lua_State *L) {
  Model *m = lmp_check_model(L, 1);
  lua_pushfstring(L, "lmp.Model(%s: %d layers)", m->model_id ? m->model_id : m->file, (int)m->n_nodes);
  return 1;
}

int luaopen_lmp_model(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", model_gc}, {"__index", model_index}, {"__tostring", model_tostring}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"load_model", l_load_model}, {"load_model_string", l_load_model_string}, {NULL, NULL}};
  luaL_newmetatable(L, MODEL_MT);
  luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  return 1;
}
