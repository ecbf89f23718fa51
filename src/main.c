/* lmp: main builds the state (core.c) and lua_pcall's pmain (as lua.c does). Subcommands
 * (analyze, module, db, ...) are parsed and run by lua/lmp/cli.lua; anything else makes
 * lmp behave like the `lua` interpreter (lmp script.lua args, -e, -l, -), which is how
 * Busted runs the specs inside the host. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

static const char *progname = "lmp";

/* ---- running chunks (lua.c's docall with a traceback handler) ---- */

static int msghandler(lua_State *L) {
  if (lmp_error_code(L, 1) >= 0) return 1; /* a user error: its message is enough */
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static lua_State *globalL = NULL;

static void interrupted_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* a second Ctrl-C before the hook runs (a long C call) ends the process, as in lua.c */
static void on_sigint(int sig) {
  signal(sig, SIG_DFL);
  lua_sethook(globalL, interrupted_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* The SIGINT disposition in force before the call is put back after it, not SIG_DFL: the
 * REPL calls Lua from inside readline (Tab completion), whose handler must survive. */
int lmp_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  struct sigaction on, before;
  memset(&on, 0, sizeof on);
  on.sa_handler = on_sigint;
  on.sa_flags = SA_RESTART; /* as signal() had it */
  sigemptyset(&on.sa_mask);
  sigaction(SIGINT, &on, &before);
  int status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &before, NULL);
  lua_remove(L, base);
  return status;
}

/* Prints the error on top of the stack; returns the exit code it calls for. */
int lmp_report(lua_State *L, int status, int internal_code) {
  if (status == LUA_OK) return LMP_EXIT_OK;
  int code = lmp_error_code(L, -1);
  if (code >= 0) {
    lua_getfield(L, -1, "message");
    fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
  } else {
    code = internal_code;
    const char *msg = lua_tostring(L, -1);
    if (internal_code == LMP_EXIT_INTERNAL)
      fprintf(stderr, "%s: internal error (please report it): %s\n", progname, msg ? msg : "(no message)");
    else
      fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(no message)");
  }
  fflush(stderr);
  lua_pop(L, 1);
  return code;
}

/* ---- the lua-like interpreter mode ---- */

static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_chunk_status(lua_State *L, int status) {
  if (status == LUA_OK) status = lmp_docall(L, 0, 0);
  return lmp_report(L, status, 1);
}

/* lmp [options] [script [args]] as lua.c: -e stat, -l mod (or -lmod), -i, -v, -W, --, -.
 * With no script: the REPL on a terminal, else the chunk on stdin (unless -e or -v ran). */
static int interpreter(lua_State *L, int argc, char **argv) {
  int i = 1, interactive = 0, ran_something = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "-e") == 0 || strncmp(a, "-l", 2) == 0) {
      const char *v = a[1] == 'l' && a[2] != '\0' ? a + 2 : NULL;
      if (v == NULL) {
        if (i + 1 >= argc) {
          fprintf(stderr, "%s: '%s' needs an argument\n", progname, a);
          return LMP_EXIT_USAGE;
        }
        v = argv[++i];
      }
      int code;
      if (a[1] == 'e') {
        code = run_chunk_status(L, luaL_loadbuffer(L, v, strlen(v), "=(command line)"));
      } else {
        lua_getglobal(L, "require");
        lua_pushstring(L, v);
        int st = lmp_docall(L, 1, 1);
        if (st == LUA_OK) lua_setglobal(L, v);
        code = lmp_report(L, st, 1);
      }
      if (code != 0) return code;
      ran_something = 1;
    } else if (strcmp(a, "-v") == 0) {
      printf("lmp %s (%s)\n", LMP_VERSION, LUA_RELEASE);
      ran_something = 1;
    } else if (strcmp(a, "-i") == 0) {
      interactive = 1;
    } else if (strcmp(a, "-W") == 0) {
      lua_warning(L, "@on", 0);
    } else if (strcmp(a, "-E") == 0) {
      /* lmp never reads LUA_INIT */
    } else {
      fprintf(stderr, "%s: unrecognized option '%s'\n", progname, a);
      return LMP_EXIT_USAGE;
    }
  }
  if (i < argc) {
    int script = i;
    create_arg_table(L, argv, argc, script);
    const char *fname = strcmp(argv[script], "-") == 0 ? NULL : argv[script];
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
      int n = argc - script - 1;
      luaL_checkstack(L, n, "too many arguments to script");
      for (int k = script + 1; k < argc; k++) lua_pushstring(L, argv[k]);
      status = lmp_docall(L, n, 0);
    }
    int code = lmp_report(L, status, 1);
    if (code != 0 || !interactive) return code;
  } else {
    create_arg_table(L, argv, argc, argc - 1 > 0 ? argc - 1 : 0);
    if (!interactive && !ran_something) {
      if (isatty(0)) return lmp_repl(L);
      return run_chunk_status(L, luaL_loadfile(L, NULL));
    }
  }
  return interactive ? lmp_repl(L) : LMP_EXIT_OK;
}

/* require(name), its value pushed; the status, as lmp_docall's */
static int require_module(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  return lmp_docall(L, 1, 1);
}

/* `lmp word ...` runs a script when word looks like one (an option, "-", a .lua file or any
 * existing file: busted, for one, has no suffix) unless it is "repl" or one of the words of
 * lmp.cli (on top of the stack), whose cli.takes knows its commands and global options */
static int is_script(lua_State *L, const char *word) {
  size_t n = strlen(word);
  if (strcmp(word, "repl") == 0 ||
      !(word[0] == '-' || access(word, F_OK) == 0 || (n > 4 && strcmp(word + n - 4, ".lua") == 0)))
    return 0;
  lua_getfield(L, -1, "takes");
  lua_pushstring(L, word);
  lua_call(L, 1, 1);
  int takes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return !takes;
}

/* Words that are never lmp.cli's, decided without loading it (so a script starts as fast as
 * it did before commands were asked): one of the interpreter's own one-dash options (-e,
 * -l, -i, -v, -W, -; "-h" is the CLI's help), or a path or a .lua file that is not a
 * two-dash option (--modules=DIR is the CLI's). */
static int surely_script(const char *word) {
  size_t n = strlen(word);
  if (word[0] == '-') return word[1] != '-' && strcmp(word, "-h") != 0;
  return strchr(word, '/') != NULL || (n > 4 && strcmp(word + n - 4, ".lua") == 0);
}

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  int code, st = require_module(L, "lmp");
  if (st != LUA_OK) {
    lua_pushinteger(L, lmp_report(L, st, LMP_EXIT_INTERNAL));
    return 1;
  }
  lua_setglobal(L, "lmp");
  if (argc < 2 || (argc == 2 && strcmp(argv[1], "repl") == 0)) {
    code = argc < 2 && !isatty(0) ? interpreter(L, 2, (char *[]){argv[0], "-", NULL}) : lmp_repl(L);
  } else if (surely_script(argv[1])) {
    code = interpreter(L, argc, argv);
  } else if ((st = require_module(L, "lmp.cli")) != LUA_OK) {
    code = lmp_report(L, st, LMP_EXIT_INTERNAL);
  } else if (is_script(L, argv[1])) {
    lua_pop(L, 1);
    code = interpreter(L, argc, argv);
  } else {
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i);
    }
    st = lmp_docall(L, 1, 1);
    if (st != LUA_OK) code = lmp_report(L, st, LMP_EXIT_INTERNAL);
    else code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : LMP_EXIT_OK;
  }
  lua_pushinteger(L, code);
  return 1;
}

/* warn(): off until "@on" (lmp -W), as in lua.c; messages go to stderr */
static int warnings_on = 0;
static void warnf(void *ud, const char *msg, int tocont) {
  static int continuing = 0;
  (void)ud;
  if (!continuing && *msg == '@') {
    if (strcmp(msg, "@on") == 0) warnings_on = 1;
    else if (strcmp(msg, "@off") == 0) warnings_on = 0;
    return;
  }
  if (warnings_on) {
    if (!continuing) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputc('\n', stderr);
  }
  continuing = tocont;
}

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "%s: unprotected Lua error: %s\n", progname, msg ? msg : "(not a string)");
  return 0; /* lua_atpanic: returning aborts */
}

/* Output lost to a full disk or a closed stdout must not pass for success. Run at every
 * exit (a script's os.exit too), as gnulib's close_stdout: exit code 2. */
static void check_stdout(void) {
  errno = 0;
  int flush_errno = fflush(stdout) != 0 ? errno : 0;
  if (flush_errno != 0 || ferror(stdout)) {
    /* without a failing flush now, an earlier write failed (its errno is gone) */
    fprintf(stderr, "%s: cannot write to standard output%s%s\n", progname, flush_errno != 0 ? ": " : "",
            flush_errno != 0 ? strerror(flush_errno) : "");
    fflush(stderr);
    _exit(LMP_EXIT_USAGE);
  }
}

int main(int argc, char **argv) {
  static LmpAlloc alloc_state;
  atexit(check_stdout);
  lua_State *L = lmp_new_state(&alloc_state, panic);
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create the Lua state: out of memory\n", progname);
    return LMP_EXIT_INTERNAL;
  }
  lua_setwarnf(L, warnf, NULL);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : lmp_report(L, status, LMP_EXIT_INTERNAL);
  lua_close(L);
  return code; /* exit() runs check_stdout */
}
