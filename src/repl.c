/* The interactive REPL (`lmp`, `lmp repl`, `lmp -i`), after lua.c: each line is first tried
 * as `return <line>` so that expressions print their value; input whose error ends in
 * <eof> is incomplete and more lines are read; Ctrl-C interrupts a running computation
 * (main.c's docall) and, at the prompt, discards the line. Line editing, history
 * (appended to the file as each line is entered, under a lock: see history_lock) and tab
 * completion come from libedit, the BSD-licensed readline. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

#ifdef LMP_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

static lua_State *repl_L = NULL;
static volatile sig_atomic_t prompt_interrupted = 0;

static void on_prompt_sigint(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* at the prompt, Ctrl-C must interrupt the read (no SA_RESTART), not the process */
static void catch_sigint_at_prompt(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

/* calls require("lmp.repl")[fn] with the values on top (nargs), leaving nres results */
static int call_repl_lua(lua_State *L, const char *fn, int nargs, int nres) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lmp.repl");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_insert(L, -(nargs + 1));
  return lmp_docall(L, nargs, nres);
}

#ifdef LMP_HAVE_LIBEDIT
/* ---- tab completion: candidates come from lmp.repl.complete(line, start), the line up
 * to the cursor and where the word being completed starts in it ---- */

static char **candidates = NULL;
static size_t ncandidates = 0, next_candidate = 0;

static void free_candidates(void) {
  for (size_t i = 0; i < ncandidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL;
  ncandidates = next_candidate = 0;
}

static char *generator(const char *text, int state) {
  (void)text;
  if (state == 0) next_candidate = 0;
  if (next_candidate < ncandidates) return strdup(candidates[next_candidate++]);
  return NULL;
}

static char **complete(const char *text, int start, int end) {
  lua_State *L = repl_L;
  free_candidates();
  int top = lua_gettop(L);
  lua_pushlstring(L, rl_line_buffer, (size_t)end);
  lua_pushinteger(L, start);
  if (call_repl_lua(L, "complete", 2, 1) == LUA_OK && lua_istable(L, -1)) {
    size_t n = (size_t)lua_rawlen(L, -1);
    candidates = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; candidates && i < n; i++) {
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      const char *s = lua_tostring(L, -1);
      if (s) candidates[ncandidates++] = strdup(s);
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  rl_attempted_completion_over = 1; /* no file-name completion of libedit's own */
  rl_completion_append_character = '\0'; /* `lmp.analyze` then `(`, `models/` then more */
  return rl_completion_matches(text, generator);
}

/* ---- the history file, in libedit's format (a _HiStOrY_V2_ line, then one line an entry,
 * encoded as strvis does so that read_history reads it back). Each entered line is appended
 * at once, under an exclusive flock on the file, so that a killed session or a closed
 * terminal loses nothing and two sessions add their lines instead of overwriting each other's.
 * At start a file past HISTORY_COMPACT lines is rewritten to the last HISTORY_KEEP. ---- */

#define HISTORY_KEEP 1000
#define HISTORY_COMPACT 2000

/* opens the history file for appending and locks it; -1 when it cannot. The lock is taken on
 * the file the path names: a compaction renames a new file over it, so a waiter that got the
 * lock on the replaced one opens the path anew. */
static int history_lock(const char *path) {
  for (int attempt = 0; attempt < 100; attempt++) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    struct stat held, named;
    if (flock(fd, LOCK_EX) == 0 && fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      if (held.st_size == 0 && write(fd, "_HiStOrY_V2_\n", 13) != 13) {
        close(fd);
        return -1;
      }
      return fd;
    }
    close(fd);
  }
  return -1;
}

/* line as strvis(VIS_WHITE) would write it: a backslash doubled, every byte that is not a
 * visible ASCII character as \ooo, then a newline; the caller frees it */
static char *history_encode(const char *line) {
  size_t n = strlen(line);
  char *out = malloc(4 * n + 2), *o = out;
  if (out == NULL) return NULL;
  for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
    if (*p == '\\') { *o++ = '\\'; *o++ = '\\'; }
    else if (*p > ' ' && *p < 127) *o++ = (char)*p;
    else o += sprintf(o, "\\%03o", *p);
  }
  *o++ = '\n';
  *o = '\0';
  return out;
}

/* into the history, and appended to the file at once */
static void remember(const char *line, const char *history) {
  add_history(line);
  if (history == NULL) return;
  char *text = history_encode(line);
  int fd = text ? history_lock(history) : -1;
  if (fd >= 0) {
    size_t len = strlen(text), done = 0;
    while (done < len) {
      ssize_t n = write(fd, text + done, len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += (size_t)n;
    }
    close(fd); /* releases the lock */
  }
  free(text);
}

/* reads the history (under the lock, so no line being appended is half read); a file past
 * HISTORY_COMPACT lines is replaced by one with the last HISTORY_KEEP, renamed into place */
static void history_load(const char *history) {
  int fd = history_lock(history);
  if (fd < 0) return;
  read_history(history);
  FILE *f = fopen(history, "r");
  int lines = 0, c;
  while (f && (c = getc(f)) != EOF) lines += c == '\n';
  if (f) fclose(f);
  char tmp[4200];
  if (lines > HISTORY_COMPACT && snprintf(tmp, sizeof tmp, "%s.tmp-%ld", history, (long)getpid()) < (int)sizeof tmp) {
    unlink(tmp);
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int ok = out >= 0 && write(out, "_HiStOrY_V2_\n", 13) == 13;
    for (int i = 0; ok && i < history_length; i++) {
      HIST_ENTRY *e = history_get(history_base + i);
      char *text = e ? history_encode(e->line) : NULL;
      ok = text == NULL || write(out, text, strlen(text)) == (ssize_t)strlen(text);
      free(text);
    }
    if (out >= 0) {
      ok = ok && fsync(out) == 0;
      ok = close(out) == 0 && ok;
      if (!ok || rename(tmp, history) != 0) unlink(tmp);
    }
  }
  close(fd);
}
#endif

/* reads a line (without its newline) or returns NULL at end of input */
static char *read_line(const char *prompt) {
#ifdef LMP_HAVE_LIBEDIT
  if (isatty(0)) return readline(prompt);
#endif
  fputs(prompt, stdout);
  fflush(stdout);
  size_t cap = 256, len = 0;
  char *buf = malloc(cap);
  int c;
  while (buf && (c = getchar()) != EOF && c != '\n') {
    if (len + 1 >= cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) { free(buf); return NULL; }
      buf = bigger;
    }
    buf[len++] = (char)c;
  }
  if (buf == NULL || (c == EOF && len == 0)) { free(buf); return NULL; }
  buf[len] = '\0';
  return buf;
}

/* status of compiling the buffer: 1 complete chunk on the stack, 0 incomplete, -1 error on the stack */
static int compile(lua_State *L, const char *code) {
  /* first as an expression, so that `1 + 1` prints 2 */
  lua_pushfstring(L, "return %s;", code);
  int st = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
  lua_remove(L, -2);
  if (st == LUA_OK) return 1;
  lua_pop(L, 1);
  st = luaL_loadbuffer(L, code, strlen(code), "=stdin");
  if (st == LUA_OK) return 1;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  if (st == LUA_ERRSYNTAX && len >= 5 && strcmp(msg + len - 5, "<eof>") == 0) {
    lua_pop(L, 1);
    return 0;
  }
  return -1;
}

int lmp_repl(lua_State *L) {
  repl_L = L;
  const char *history = NULL;
  lua_pushnil(L);
  if (call_repl_lua(L, "start", 1, 1) == LUA_OK) history = lua_tostring(L, -1);
  int history_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps the path string alive */
#ifdef LMP_HAVE_LIBEDIT
  using_history();
  stifle_history(HISTORY_KEEP);
  if (history) history_load(history);
  rl_attempted_completion_function = complete;
  rl_completer_word_break_characters = " \t\n\"'`@$><=;|&{(,+-*/%^~#[]";
#endif
  printf("lmp %s (%s). Expressions print their value; :help for help, Ctrl-D to leave.\n", LMP_VERSION, LUA_RELEASE);
  char *pending = NULL; /* lines of an incomplete chunk */
  for (;;) {
    catch_sigint_at_prompt();
    prompt_interrupted = 0;
    char *line = read_line(pending ? ">> " : "lmp> ");
    if (line == NULL) {
      if (prompt_interrupted) { /* Ctrl-C at the prompt: drop what was typed */
        printf("\n");
        free(pending);
        pending = NULL;
        clearerr(stdin);
        continue;
      }
      break; /* end of input */
    }
    if (pending == NULL && line[0] == ':') {
      lua_pushstring(L, line);
      int st = call_repl_lua(L, "command", 1, 1);
      int quit = st == LUA_OK && lua_toboolean(L, -1);
      if (st != LUA_OK) lmp_report(L, st, 1);
      else lua_pop(L, 1);
#ifdef LMP_HAVE_LIBEDIT
      remember(line, history);
#endif
      free(line);
      if (quit) break;
      continue;
    }
    size_t plen = pending ? strlen(pending) : 0;
    char *code = malloc(plen + strlen(line) + 2);
    if (code == NULL) break;
    if (pending) {
      memcpy(code, pending, plen);
      code[plen++] = '\n';
    }
    strcpy(code + plen, line);
    free(line);
    free(pending);
    pending = NULL;
    int c = compile(L, code);
    if (c == 0) {
      pending = code;
      continue;
    }
#ifdef LMP_HAVE_LIBEDIT
    if (code[0] != '\0') remember(code, history);
#endif
    free(code);
    if (c < 0) {
      lmp_report(L, LUA_ERRSYNTAX, 1);
      continue;
    }
    int base = lua_gettop(L) - 1;
    int st = lmp_docall(L, 0, LUA_MULTRET);
    if (st != LUA_OK) {
      lmp_report(L, st, 1);
    } else if (lua_gettop(L) > base) {
      int n = lua_gettop(L) - base;
      if (call_repl_lua(L, "show", n, 0) != LUA_OK) lmp_report(L, LUA_ERRRUN, 1);
    }
    lua_settop(L, base);
  }
  free(pending);
  printf("\n");
#ifdef LMP_HAVE_LIBEDIT
  free_candidates();
#endif
  luaL_unref(L, LUA_REGISTRYINDEX, history_ref);
  signal(SIGINT, SIG_DFL);
  return LMP_EXIT_OK;
}
