/* HTTP over libcurl: one blocking request at a time, for the Hugging Face Hub (config
 * downloads) and the LLM APIs (lua/lmp/agent/llm.lua). Expected failures (network down, timeout, a response
 * over the size limit) return nil, message; an HTTP error status is a normal result that
 * the caller turns into its own message. Secrets in headers are never logged. */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "lmp.h"

/* libcurl (Debian's libcurl4) is opened on the first request, not at start: it brings some
 * thirty shared libraries (TLS, HTTP/2, SSH, LDAP, Kerberos) whose loading would triple the
 * start-up time of every analysis that never touches the network. */
static struct {
  int tried, ok;
  char error[PATH_MAX + 128]; /* fixed text and dlerror's, which names one library file: never cut */
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

/* "scheme://host:port" of a URL, lower-cased, the port made explicit: two URLs with the same
 * origin may share credentials, any other pair may not. 0 when the URL has no authority. */
static int origin_of(const char *url, char *out, size_t outlen) {
  const char *sep = strstr(url, "://");
  if (sep == NULL || (size_t)(sep - url) > 10) return 0;
  size_t slen = (size_t)(sep - url);
  const char *host = sep + 3;
  size_t alen = strcspn(host, "/?#");
  const char *at = memchr(host, '@', alen); /* user:password@ is not part of the origin */
  if (at != NULL) {
    alen -= (size_t)(at + 1 - host);
    host = at + 1;
  }
  const char *colon = NULL;
  for (const char *c = host + alen; c > host; c--)
    if (c[-1] == ':') { colon = c - 1; break; } else if (c[-1] == ']') break;
  size_t hlen = colon ? (size_t)(colon - host) : alen;
  const char *port = colon ? colon + 1 : NULL;
  size_t plen = colon ? alen - hlen - 1 : 0;
  int https = slen == 5 && strncasecmp(url, "https", 5) == 0;
  if (plen == 0) { port = https ? "443" : "80"; plen = strlen(port); }
  int n = snprintf(out, outlen, "%.*s://%.*s:%.*s", (int)slen, url, (int)hlen, host, (int)plen, port);
  if (n < 0 || (size_t)n >= outlen) return 0;
  for (char *c = out; *c; c++) if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
  return 1;
}

/* core.http_request{ url=, method= (GET, or POST with a body), headers={ "Name: value", ... }, body=,
 *                    timeout_ms=30000, connect_timeout_ms=10000, max_bytes=16 MiB, follow=0 }
 *   -> { status=, body=, headers={lower-case name -> value}, url= (the last one asked) } or nil, message
 * Redirects are not followed by libcurl, which would send every header but Authorization on
 * to another host (an API key, and the whole body). With follow=N (GET only) lmp follows up
 * to N itself: the caller's headers (its credentials) go only to the first URL's origin
 * (scheme, host and port), and https never goes on to http. A 3xx that is not followed is
 * returned like any status, its Location in headers.location. */
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
  long follow = strcmp(method, "GET") == 0 && body == NULL ? opt_int(L, 1, "follow", 0) : 0;
  Buffer buf = {NULL, 0, 0, (size_t)opt_int(L, 1, "max_bytes", HTTP_MAX_BYTES_DEFAULT), 0};

  if (!load_curl()) {
    lua_pushnil(L);
    lua_pushstring(L, curl.error);
    return 2;
  }
  char home[512];
  if (!origin_of(url, home, sizeof home)) home[0] = '\0';
  struct curl_slist *headers = NULL, *bare = NULL;
  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
      headers = curl.slist_append(headers, lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  headers = curl.slist_append(headers, "Expect:"); /* no 100-continue round trip */
  bare = curl.slist_append(bare, "Expect:");       /* what goes to another origin */
  lua_pushstring(L, url); /* the URL asked, anchored on the stack across hops */
  int url_idx = lua_gettop(L);
  long status = 0;
  CURLcode rc = CURLE_OK;
  char errbuf[CURL_ERROR_SIZE] = "";
  const char *refused = NULL;
  for (long hop = 0;; hop++) {
    const char *cur = lua_tostring(L, url_idx);
    char origin[512];
    /* the URL asked gets the caller's headers; a hop only when it has the same origin */
    int same = hop == 0 || (home[0] != '\0' && origin_of(cur, origin, sizeof origin) && strcmp(origin, home) == 0);
    lua_newtable(L); /* response headers of this hop */
    HeaderCtx hctx = {L, lua_gettop(L)};
    CURL *h = curl.easy_init();
    if (h == NULL) {
      curl.slist_free_all(headers);
      curl.slist_free_all(bare);
      free(buf.data);
      return luaL_error(L, "libcurl: cannot create a handle");
    }
    buf.len = 0;
    errbuf[0] = '\0';
    curl.easy_setopt(h, CURLOPT_URL, cur);
    curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
      curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
      curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, same ? headers : bare);
    curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
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
    rc = curl.easy_perform(h);
    status = 0;
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    char *next = NULL;
    if (rc == CURLE_OK && status >= 300 && status < 400) curl.easy_getinfo(h, CURLINFO_REDIRECT_URL, &next);
    int go = next != NULL && hop < follow;
    if (go && strncasecmp(cur, "https:", 6) == 0 && strncasecmp(next, "https:", 6) != 0) {
      go = 0;
      refused = "a redirect from https to another scheme";
    }
    if (go) lua_pushstring(L, next); /* copied before the handle (which owns it) goes */
    curl.easy_cleanup(h);
    if (!go) break;
    lua_replace(L, url_idx);
    lua_pop(L, 1); /* this hop's headers */
  }
  int hdr_idx = lua_gettop(L);
  const char *last = lua_tostring(L, url_idx);
  curl.slist_free_all(headers);
  curl.slist_free_all(bare);
  if (rc != CURLE_OK || refused != NULL) {
    lua_pushnil(L);
    if (refused != NULL) {
      lua_getfield(L, hdr_idx, "location");
      lua_pushfstring(L, "%s: refused %s (%s)", last, refused, luaL_optstring(L, -1, "?"));
    } else if (buf.overflow)
      lua_pushfstring(L, "%s: response larger than %d bytes", last, (int)buf.max);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
      lua_pushfstring(L, "%s: timed out after %d ms", last, (int)timeout);
    else
      lua_pushfstring(L, "%s: %s", last, errbuf[0] ? errbuf : curl.easy_strerror(rc));
    free(buf.data);
    return 2;
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, buf.data ? buf.data : "", buf.len);
  lua_setfield(L, -2, "body");
  lua_pushvalue(L, hdr_idx);
  lua_setfield(L, -2, "headers");
  lua_pushvalue(L, url_idx);
  lua_setfield(L, -2, "url");
  free(buf.data);
  return 1;
}

int luaopen_lmp_http(lua_State *L) {
  static const luaL_Reg fns[] = {{"http_request", l_http_request}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
