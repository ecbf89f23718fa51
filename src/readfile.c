/* Whole files read into memory, under one size limit (LMP_MAX_MODEL_BYTES): model files,
 * calculators, core.read_file. A path under LMP_BUNDLED reads the compiled-in copy. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lmp.h"

/* File texts carry a small header saying how they were allocated (lmp_big_alloc). */
typedef struct {
  size_t mapped;
  size_t pad; /* keeps the text 16-byte aligned */
} TextHeader;

void lmp_file_free(char *text) {
  if (text == NULL) return;
  TextHeader *h = (TextHeader *)(void *)(text - sizeof(TextHeader));
  lmp_big_free(h, h->mapped);
}

/* the most bytes lmp reads from one file: LMP_MAX_MODEL_BYTES, default 2 GiB */
size_t lmp_max_file_bytes(void) {
  return lmp_env_size("LMP_MAX_MODEL_BYTES", (size_t)2 << 30, SIZE_MAX / 4 - 1);
}

/* a copy of a file compiled in (bundled.c), freed as any other */
static void read_bundled(lua_State *L, const char *path, int kind, const LmpBundled *b, char **out, size_t *len) {
  size_t n = b ? (size_t)(b->end - b->start) : 0, mapped = 0;
  TextHeader *h = b ? lmp_big_alloc(sizeof(TextHeader) + n + 1, &mapped) : NULL;
  if (h == NULL)
    lmp_raise(L, LMP_EXIT_USAGE, "%s: cannot open: %s", path,
              b ? "out of memory" : kind == 2 ? "Is a directory" : "not in the bundled data");
  h->mapped = mapped;
  *out = memcpy(h + 1, b->start, n);
  (*out)[n] = '\0';
  *len = n;
}

/* The limit holds while reading: a pipe, a FIFO or /dev/zero stops at it too. */
void lmp_read_file(lua_State *L, const char *path, char **out, size_t *len) {
  const LmpBundled *b = NULL;
  int kind = lmp_bundled_kind(path, &b);
  if (kind >= 0) {
    read_bundled(L, path, kind, b, out, len);
    return;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) lmp_raise(L, LMP_EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
  size_t max = lmp_max_file_bytes();
  /* a regular file is read in one allocation of its size; pipes and the like grow */
  size_t cap = 65536, n = 0, mapped = 0;
  struct stat st = {0};
  int over = 0;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    over = (size_t)st.st_size > max;
    cap = (size_t)st.st_size + 1;
  }
  if (cap > max + 1) cap = max + 1;
  TextHeader *h = NULL;
  if (!over && !S_ISREG(st.st_mode)) {
    /* a pipe or a device: address space for the whole limit, of which only what is read is
     * ever touched, so no doubling copies (at 2 GiB those peaked at twice the limit) */
    size_t span = sizeof(TextHeader) + max + 2;
    void *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      h = p;
      mapped = span;
      cap = max + 1;
    }
  }
  if (!over && h == NULL) h = lmp_big_alloc(sizeof(TextHeader) + cap + 1, &mapped);
  int bad = h == NULL && !over;
  while (!bad && !over) {
    char *buf = (char *)(h + 1);
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    if (n > max) { over = 1; break; }
    size_t bigger_cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
    size_t bigger_mapped = 0;
    TextHeader *bigger = lmp_big_alloc(sizeof(TextHeader) + bigger_cap + 1, &bigger_mapped);
    if (bigger == NULL) { bad = 1; break; }
    memcpy(bigger + 1, buf, n);
    lmp_big_free(h, mapped);
    h = bigger;
    mapped = bigger_mapped;
    cap = bigger_cap;
  }
  if (ferror(f) && !over) bad = 1;
  fclose(f);
  if (bad || over) {
    int no_memory = h == NULL;
    if (h) lmp_big_free(h, mapped);
    if (over)
      lmp_raise(L, LMP_EXIT_USAGE, "%s: more than %zu bytes, the limit for a file lmp reads (LMP_MAX_MODEL_BYTES raises it)",
                path, max);
    lmp_raise(L, LMP_EXIT_USAGE, "%s: cannot read%s", path, no_memory ? ": out of memory" : "");
  }
  h->mapped = mapped;
  char *text = (char *)(h + 1);
  text[n] = '\0';
  *out = text;
  *len = n;
}

/* core.read_file(path) -> text, or raises an lmp.Error naming the path */
static int l_read_file(lua_State *L) {
  char *text;
  size_t len;
  lmp_read_file(L, luaL_checkstring(L, 1), &text, &len);
  lua_pushlstring(L, text, len);
  lmp_file_free(text);
  return 1;
}

int luaopen_lmp_readfile(lua_State *L) {
  static const luaL_Reg fns[] = {{"read_file", l_read_file}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
