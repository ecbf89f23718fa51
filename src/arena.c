/* Bump allocator: models are parsed once and freed at once, so nodes, strings and
 * formulas live in big blocks instead of millions of malloc calls. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

typedef struct Block {
  struct Block *next;
  size_t used, size;
  max_align_t data[];
} Block;

struct Arena {
  Block *head;
};

Arena *arena_new(void) {
  return calloc(1, sizeof(Arena));
}

void *arena_alloc(Arena *a, size_t size) {
  size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  if (size == 0) size = sizeof(max_align_t);
  Block *b = a->head;
  if (b == NULL || b->size - b->used < size) {
    size_t cap = size > 65536 ? size : 65536;
    if (b != NULL && b->size * 2 > cap && b->size < (1u << 24)) cap = b->size * 2;
    b = malloc(sizeof(Block) + cap);
    if (b == NULL) return NULL;
    b->size = cap;
    b->used = 0;
    b->next = a->head;
    a->head = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += size;
  return p;
}

char *arena_strndup(Arena *a, const char *s, size_t len) {
  char *p = arena_alloc(a, len + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

void arena_free(Arena *a) {
  if (a == NULL) return;
  Block *b = a->head;
  while (b != NULL) {
    Block *next = b->next;
    free(b);
    b = next;
  }
  free(a);
}

static int arena_box_gc(lua_State *L) {
  Arena **box = luaL_checkudata(L, 1, "lmp.Arena");
  arena_free(*box);
  *box = NULL;
  return 0;
}

Arena *lmp_push_arena(lua_State *L) {
  Arena **box = lua_newuserdatauv(L, sizeof(Arena *), 0);
  *box = NULL;
  if (luaL_newmetatable(L, "lmp.Arena")) {
    lua_pushcfunction(L, arena_box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  *box = arena_new();
  if (*box == NULL) luaL_error(L, "out of memory");
  return *box;
}

void lmp_release_arena(lua_State *L, int idx) {
  Arena **box = luaL_checkudata(L, idx, "lmp.Arena");
  arena_free(*box);
  *box = NULL;
}
