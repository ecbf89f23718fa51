/* The running process and the programs it starts: its own path, the width of its terminal,
 * running a program to its end. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lmp.h"

/* core.exe_path() -> absolute path of the running lmp, or nil */
static int l_exe_path(lua_State *L) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) {
    lua_pushnil(L);
    return 1;
  }
  buf[n] = '\0';
  lua_pushstring(L, buf);
  return 1;
}

/* core.terminal_columns() -> the width of the terminal stdout is, or nil when stdout is
 * not a terminal (or says no width) */
static int l_terminal_columns(lua_State *L) {
  struct winsize ws;
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    lua_pushinteger(L, ws.ws_col);
  else
    lua_pushnil(L);
  return 1;
}

/* runs argv (no shell) to its end: its output to /dev/null when quiet, else to lmp's own */
static int spawn(lua_State *L, int quiet) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)lua_rawlen(L, 1);
  luaL_argcheck(L, n >= 1 && n < 256, 1, "argv must hold 1 to 255 strings");
  char *argv[256];
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    argv[i] = (char *)luaL_checkstring(L, -1);
    lua_pop(L, 1); /* still referenced by the table */
  }
  argv[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (quiet) {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  fflush(NULL); /* what lmp printed comes before what the program prints */
  pid_t pid;
  extern char **environ;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    if (!quiet) return luaL_error(L, "cannot run %s: %s", argv[0], strerror(rc));
    lua_pushinteger(L, 127); /* as a shell says "not found" */
    return 1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 1;
}

/* core.spawn_wait(argv) -> exit code: runs a program, its output to /dev/null, and waits for
 * it (127 when it cannot start). For benchmarks and probes: a shell in between would be timed too. */
static int l_spawn_wait(lua_State *L) { return spawn(L, 1); }

/* core.run(argv) -> exit code: runs a program with lmp's stdin, stdout and stderr (the
 * exporter's messages reach the user as it prints them) */
static int l_run(lua_State *L) { return spawn(L, 0); }

int luaopen_lmp_process(lua_State *L) {
  static const luaL_Reg fns[] = {{"exe_path", l_exe_path}, {"terminal_columns", l_terminal_columns},
                                 {"spawn_wait", l_spawn_wait}, {"run", l_run}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
