/* The little filesystem access the Lua side needs (no lfs dependency): folders, file
 * kinds, locks, atomic writes; paths under LMP_BUNDLED reach the compiled-in data. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lmp.h"

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* core.listdir(path) -> sorted names (no . or ..), or nil, message; a path under (bundled)
 * lists the compiled-in data */
static int l_listdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (lmp_bundled_kind(path, NULL) >= 0) {
    if (!lmp_bundled_names(L, path)) {
      lua_pushnil(L);
      lua_pushfstring(L, "%s: not a folder of the bundled data", path);
      return 2;
    }
  } else {
    DIR *d = opendir(path);
    if (d == NULL) {
      lua_pushnil(L);
      lua_pushfstring(L, "%s: %s", path, strerror(errno));
      return 2;
    }
    lua_newtable(L);
    lua_Integer count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      lua_pushstring(L, e->d_name);
      lua_rawseti(L, -2, ++count);
    }
    closedir(d);
  }
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  /* sort in Lua-independent C: copy out, qsort, copy back */
  const char **names = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n ? n : 1), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    names[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1); /* still anchored in the table */
  }
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_pushstring(L, names[i - 1]);
    lua_rawseti(L, -2, i);
  }
  return 1;
}

/* core.file_kind(path) -> "file", "directory", "other" or nil */
static int l_file_kind(lua_State *L) {
  static const char *const bundled[] = {NULL, "file", "directory"};
  int kind = lmp_bundled_kind(luaL_checkstring(L, 1), NULL);
  if (kind >= 0) {
    lua_pushstring(L, bundled[kind]);
    return 1;
  }
  struct stat st;
  if (stat(luaL_checkstring(L, 1), &st) != 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
  return 1;
}

/* core.mkdir_p(path) -> true, or nil, message: creates the folder and its parents */
static int l_mkdir_p(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[4096];
  if (strlen(path) >= sizeof buf) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: path too long", path);
    return 2;
  }
  strcpy(buf, path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", buf, strerror(errno));
        return 2;
      }
      *p = saved;
      if (saved == '\0') break;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- an exclusive lock on a file, so that two lmp processes never write the module
 * database or a calculator at the same time. The holder removes the lock file when it
 * releases it (no lock file is left behind); a waiter that then gets the lock on the
 * removed file sees that the path no longer names it and locks the path anew. ---- */

#define LOCK_MT "lmp.Lock"

typedef struct {
  int fd, held;
  char path[]; /* what to remove on release */
} Lock;

static int lock_release(lua_State *L) {
  Lock *l = luaL_checkudata(L, 1, LOCK_MT);
  if (l->fd >= 0) {
    if (l->held) unlink(l->path); /* while still holding it: nobody else can own this file */
    flock(l->fd, LOCK_UN);
    close(l->fd);
    l->fd = -1;
    l->held = 0;
  }
  return 0;
}

/* core.lock_file(path [, timeout_ms]) -> lock (release with lock:release(), or let it be
 * collected / closed), or nil, message when another process holds it past the timeout */
static int l_lock_file(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  lua_Integer timeout = luaL_optinteger(L, 2, 10000);
  Lock *l = lua_newuserdatauv(L, sizeof(Lock) + len + 1, 0);
  l->fd = -1;
  l->held = 0;
  memcpy(l->path, path, len + 1);
  luaL_setmetatable(L, LOCK_MT);
  for (lua_Integer waited = 0;;) {
    if (l->fd < 0) l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->fd < 0) {
      lua_pushnil(L);
      lua_pushfstring(L, "%s: %s", path, strerror(errno));
      return 2;
    }
    if (flock(l->fd, LOCK_EX | LOCK_NB) == 0) {
      struct stat held, named;
      if (fstat(l->fd, &held) == 0 && stat(path, &named) == 0 && held.st_ino == named.st_ino &&
          held.st_dev == named.st_dev) {
        l->held = 1;
        return 1;
      }
      close(l->fd); /* the previous holder removed this file: lock the one the path names now */
      l->fd = -1;
      continue;
    }
    if (errno != EWOULDBLOCK || waited >= timeout) {
      lua_pushnil(L);
      lua_pushfstring(L, "%s: locked by another lmp process for %d ms", path, (int)waited);
      return 2; /* the userdata's __gc closes fd */
    }
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    waited += 50;
  }
}

/* writes all of text to fd; 0, or -1 with errno set */
static int write_all(int fd, const char *text, size_t len) {
  for (size_t done = 0; done < len;) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)n;
  }
  return 0;
}

/* creates a temporary file beside `path` under a name nobody can predict, exclusively
 * (O_EXCL: never an existing file; O_NOFOLLOW: never through a planted symlink), mode
 * 0666 less the umask as an ordinary new file; -1 with errno set */
static int create_temp(const char *path, char *tmp, size_t size) {
  for (int attempt = 0; attempt < 100; attempt++) {
    unsigned char r[8];
    if (getentropy(r, sizeof r) != 0) return -1;
    unsigned long long x;
    memcpy(&x, r, sizeof x);
    if (snprintf(tmp, size, "%s.tmp-%016llx", path, x) >= (int)size) {
      errno = ENAMETOOLONG;
      return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

/* core.write_file_atomic(path, text) -> true, or nil, message. The text goes to a temporary
 * file beside `path` (create_temp), is flushed to disk, and is renamed over `path`: a reader
 * (or a crash at any point) sees the old file or the new one, never half of one. A `path`
 * that exists and is not a regular file (/dev/stdout, a FIFO, /dev/full) is written in place:
 * a device is never replaced by a file. Every write, the flush and the close are checked. */
static int l_write_file_atomic(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t len;
  const char *text = luaL_checklstring(L, 2, &len);
  char tmp[4200];
  const char *failed = NULL;
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    int fd = open(path, O_WRONLY | O_CLOEXEC), e = errno;
    if (fd < 0) failed = "open";
    else if (write_all(fd, text, len) != 0) failed = "write", e = errno;
    if (fd >= 0 && close(fd) != 0 && !failed) failed = "close", e = errno;
    if (failed) {
      lua_pushnil(L);
      lua_pushfstring(L, "%s: cannot %s: %s", path, failed, strerror(e));
      return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
  }
  int fd = create_temp(path, tmp, sizeof tmp);
  if (fd < 0) {
    failed = "create a temporary file beside it";
  } else {
    if (write_all(fd, text, len) != 0) failed = "write";
    if (!failed && fsync(fd) != 0) failed = "flush";
    if (close(fd) != 0 && !failed) failed = "close";
    if (!failed && rename(tmp, path) != 0) failed = "rename";
  }
  if (failed) {
    int e = errno;
    if (fd >= 0) unlink(tmp);
    lua_pushnil(L);
    lua_pushfstring(L, "%s: cannot %s: %s", path, failed, strerror(e));
    return 2;
  }
  /* make the rename itself durable */
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  else strcpy(dir, ".");
  int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  lua_pushboolean(L, 1);
  return 1;
}

int luaopen_lmp_fs(lua_State *L) {
  if (luaL_newmetatable(L, LOCK_MT)) {
    lua_pushcfunction(L, lock_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, lock_release);
    lua_setfield(L, -2, "__close");
    lua_newtable(L);
    lua_pushcfunction(L, lock_release);
    lua_setfield(L, -2, "release");
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {{"listdir", l_listdir}, {"file_kind", l_file_kind}, {"mkdir_p", l_mkdir_p},
                                 {"lock_file", l_lock_file}, {"write_file_atomic", l_write_file_atomic}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_pushliteral(L, LMP_BUNDLED);
  lua_setfield(L, -2, "BUNDLED");
  return 1;
}
