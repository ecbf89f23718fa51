/* Bump allocator: models are parsed once and freed at once, so nodes, strings and
 * formulas live in big blocks instead of millions of malloc calls. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lmp.h"

/* Large buffers (the text of a big model file, arena blocks of megabytes) are mapped
 * directly and marked for transparent huge pages: on a virtual machine each 4 KiB page
 * fault costs microseconds, and a million-layer model touches hundreds of megabytes. */
#define HUGE_PAGE ((size_t)2 << 20)

void *lmp_big_alloc(size_t size, size_t *mapped) {
  *mapped = 0;
  if (size < HUGE_PAGE) return malloc(size);
  size_t len = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return malloc(size);
#ifdef MADV_HUGEPAGE
  madvise(p, len, MADV_HUGEPAGE);
#endif
  *mapped = len;
  return p;
}

void lmp_big_free(void *p, size_t mapped) {
  if (p == NULL) return;
  if (mapped) munmap(p, mapped);
  else free(p);
}

typedef struct Block {
  struct Block *next;
  size_t used, size;
  size_t mapped; /* bytes mmap'd for it (0: malloc'd) */
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
    size_t mapped = 0;
    b = lmp_big_alloc(sizeof(Block) + cap, &mapped);
    if (b == NULL) return NULL;
    b->mapped = mapped;
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
    lmp_big_free(b, b->mapped);
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
