/* The bundled data (modules_lua/, module_db.json, models/, docs/: cmake/embed_data.cmake
 * compiles them in) seen as a read-only folder named "(bundled)". lmp_read_file (so core.read_file,
 * core.load_model and calculators), core.file_kind and core.listdir accept paths inside it:
 * one copied lmp file works with no data beside it, and messages name the file
 * "(bundled)/modules_lua/torch_linear.lua". */
#include <string.h>

#include "lmp.h"

/* the path inside the bundle, normalized into buf ("" is the root, "models", "models/x.json");
 * NULL when path is not inside it */
static const char *inside(const char *path, char *buf, size_t size) {
  size_t plen = strlen(LMP_BUNDLED);
  if (strncmp(path, LMP_BUNDLED, plen) != 0 || (path[plen] != '\0' && path[plen] != '/')) return NULL;
  size_t n = 0;
  for (const char *p = path + plen; *p;) {
    while (*p == '/') p++;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 0 || (len == 1 && p[0] == '.')) {
    } else if (len == 2 && p[0] == '.' && p[1] == '.') { /* up one, never above the root */
      while (n > 0 && buf[n - 1] != '/') n--;
      if (n > 0) n--;
    } else {
      if (n + len + 2 > size) return NULL;
      if (n > 0) buf[n++] = '/';
      memcpy(buf + n, p, len);
      n += len;
    }
    p += len;
  }
  buf[n] = '\0';
  return buf;
}

int lmp_bundled_kind(const char *path, const LmpBundled **file) {
  char buf[1024];
  const char *rel = inside(path, buf, sizeof buf);
  if (rel == NULL) return -1;
  size_t n = strlen(rel);
  if (n == 0) return 2;
  for (const LmpBundled *e = lmp_bundled_data; e->name; e++) {
    if (strcmp(e->name, rel) == 0) {
      if (file) *file = e;
      return 1;
    }
    if (strncmp(e->name, rel, n) == 0 && e->name[n] == '/') return 2;
  }
  return 0;
}

int lmp_bundled_names(lua_State *L, const char *path) {
  char buf[1024];
  const char *rel = inside(path, buf, sizeof buf);
  if (rel == NULL || lmp_bundled_kind(path, NULL) != 2) return 0;
  size_t n = strlen(rel);
  lua_newtable(L);
  lua_Integer count = 0;
  const char *last = NULL;
  size_t last_len = 0;
  for (const LmpBundled *e = lmp_bundled_data; e->name; e++) {
    if (n > 0 && (strncmp(e->name, rel, n) != 0 || e->name[n] != '/')) continue;
    const char *name = e->name + (n > 0 ? n + 1 : 0);
    const char *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : strlen(name);
    /* the table is sorted, so a folder's files are consecutive: list it once */
    if (last && len == last_len && memcmp(name, last, len) == 0) continue;
    lua_pushlstring(L, name, len);
    lua_rawseti(L, -2, ++count);
    last = name;
    last_len = len;
  }
  return 1;
}
