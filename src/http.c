/* HTTP over libcurl: one blocking request at a time, for the Hugging Face Hub (config
 * downloads) and, later, LLM APIs. Expected failures (network down, timeout, a response
 * over the size limit) return nil, message; an HTTP error status is a normal result that
 * the caller turns into its own message. Secrets in headers are never logged. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lmp.h"

/* libcurl (Debian's libcurl4) is opened on the first request, not at start: it brings some
 * thirty shared libraries (TLS, HTTP/2, SSH, LDAP, Kerberos) whose loading would triple the
 * start-up time of every analysis that never touches the network. */
static struct {
  int tried, ok;
  char error[256];
  CURLcode (*global_init)(long);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_cleanup)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
} curl;

static int load_curl(void) {
  if (curl.tried) return curl.ok;
  curl.tried = 1;
  void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(curl.error, sizeof curl.error, "cannot load libcurl (install libcurl4): %s", dlerror());
    return 0;
  }
#define SYM(field, name)                                                                  \
  if ((*(void **)&curl.field = dlsym(h, name)) == NULL) {                                 \
    snprintf(curl.error, sizeof curl.error, "libcurl has no %s", name);                   \
    return 0;                                                                             \
  }
  SYM(global_init, "curl_global_init")
  SYM(easy_init, "curl_easy_init")
  SYM(easy_setopt, "curl_easy_setopt")
  SYM(easy_perform, "curl_easy_perform")
  SYM(easy_getinfo, "curl_easy_getinfo")
  SYM(easy_cleanup, "curl_easy_cleanup")
  SYM(easy_strerror, "curl_easy_strerror")
  SYM(slist_append, "curl_slist_append")
  SYM(slist_free_all, "curl_slist_free_all")
#undef SYM
  if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(curl.error, sizeof curl.error, "libcurl failed to initialise");
    return 0;
  }
  curl.ok = 1;
  return 1;
}

#define HTTP_MAX_BYTES_DEFAULT (16u << 20)

typedef struct {
  char *data;
  size_t len, cap, max;
  int overflow;
} Buffer;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
  Buffer *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > b->max) {
    b->overflow = 1;
    return 0; /* aborts the transfer */
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) return 0;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

/* response headers, lower-cased names: collected into the Lua table at the top of the stack */
typedef struct {
  lua_State *L;
  int headers;
} HeaderCtx;

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  HeaderCtx *h = ud;
  size_t n = size * nmemb;
  char *colon = memchr(ptr, ':', n);
  if (colon != NULL && colon > ptr) {
    size_t klen = (size_t)(colon - ptr);
    char key[128];
    if (klen < sizeof key) {
      for (size_t i = 0; i < klen; i++) key[i] = (char)((ptr[i] >= 'A' && ptr[i] <= 'Z') ? ptr[i] + 32 : ptr[i]);
      key[klen] = '\0';
      const char *v = colon + 1;
      const char *end = ptr + n;
      while (v < end && (*v == ' ' || *v == '\t')) v++;
      while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
      lua_pushlstring(h->L, v, (size_t)(end - v));
      lua_setfield(h->L, h->headers, key);
    }
  }
  return n;
}

static long opt_int(lua_State *L, int t, const char *k, long dflt) {
  lua_getfield(L, t, k);
  long v = lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

/* core.http_request{ url=, method= (GET, or POST with a body), headers={ "Name: value", ... }, body=,
 *                    timeout_ms=30000, connect_timeout_ms=10000, max_bytes=16 MiB }
 *   -> { status=, body=, headers={lower-case name -> value} } or nil, message */
static int l_http_request(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "url");
  const char *url = luaL_checkstring(L, -1);
  lua_getfield(L, 1, "body");
  size_t body_len = 0;
  const char *body = lua_isstring(L, -1) ? lua_tolstring(L, -1, &body_len) : NULL;
  lua_getfield(L, 1, "method");
  const char *method = luaL_optstring(L, -1, body != NULL ? "POST" : "GET");
  long timeout = opt_int(L, 1, "timeout_ms", 30000);
  long connect_timeout = opt_int(L, 1, "connect_timeout_ms", 10000);
  Buffer buf = {NULL, 0, 0, (size_t)opt_int(L, 1, "max_bytes", HTTP_MAX_BYTES_DEFAULT), 0};

  if (!load_curl()) {
    lua_pushnil(L);
    lua_pushstring(L, curl.error);
    return 2;
  }
  CURL *h = curl.easy_init();
  if (h == NULL) return luaL_error(L, "libcurl: cannot create a handle");
  struct curl_slist *headers = NULL;
  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
      headers = curl.slist_append(headers, lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_newtable(L); /* response headers */
  HeaderCtx hctx = {L, lua_gettop(L)};
  char errbuf[CURL_ERROR_SIZE] = "";
  curl.easy_setopt(h, CURLOPT_URL, url);
  curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL) {
    curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  headers = curl.slist_append(headers, "Expect:"); /* no 100-continue round trip */
  curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl.easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
  curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
  curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl.easy_setopt(h, CURLOPT_WRITEDATA, &buf);
  curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl.easy_setopt(h, CURLOPT_HEADERDATA, &hctx);
  curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl.easy_setopt(h, CURLOPT_USERAGENT, "lmp/" LMP_VERSION);
  curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl.easy_perform(h);
  long status = 0;
  curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl.slist_free_all(headers);
  curl.easy_cleanup(h);
  if (rc != CURLE_OK) {
    lua_pushnil(L);
    if (buf.overflow)
      lua_pushfstring(L, "%s: response larger than %d bytes", url, (int)buf.max);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
      lua_pushfstring(L, "%s: timed out after %d ms", url, (int)timeout);
    else
      lua_pushfstring(L, "%s: %s", url, errbuf[0] ? errbuf : curl.easy_strerror(rc));
    free(buf.data);
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, buf.data ? buf.data : "", buf.len);
  lua_setfield(L, -2, "body");
  lua_pushvalue(L, hctx.headers);
  lua_setfield(L, -2, "headers");
  free(buf.data);
  return 1;
}

int luaopen_lmp_http(lua_State *L) {
  static const luaL_Reg fns[] = {{"http_request", l_http_request}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
