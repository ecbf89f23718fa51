/* A scripted HTTP/1.1 server on 127.0.0.1 for the specs (fake Hugging Face Hub, fake LLM
 * APIs). It speaks real HTTP so that lmp's libcurl code runs unchanged.
 *
 *   fake_http_server --script FILE --port-file FILE [--log FILE]
 *
 * Script: one response a line, "METHOD PATH STATUS DELAY_MS BODYFILE [Name: value]..."
 * (fields separated by single tabs; BODYFILE relative to the script, "-" for none).
 * Responses for the same METHOD and PATH are served in order, the last one repeatedly;
 * an unscripted request gets 404. The log gets every request: "METHOD PATH", its headers,
 * a blank line, the body, and a line "--". The port is written once listening. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RULES 64

typedef struct {
  char method[16], path[512], body_file[512], headers[1024];
  int status, delay_ms, used;
} Rule;

static Rule rules[MAX_RULES];
static int nrules;
static char script_dir[512] = ".";

static void load_script(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(2); }
  const char *slash = strrchr(path, '/');
  if (slash) snprintf(script_dir, sizeof script_dir, "%.*s", (int)(slash - path), path);
  char line[4096];
  while (fgets(line, sizeof line, f) && nrules < MAX_RULES) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#') continue;
    Rule *r = &rules[nrules];
    char *save = NULL, *tok;
    int field = 0;
    for (tok = strtok_r(line, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save), field++) {
      switch (field) {
        case 0: snprintf(r->method, sizeof r->method, "%s", tok); break;
        case 1: snprintf(r->path, sizeof r->path, "%s", tok); break;
        case 2: r->status = atoi(tok); break;
        case 3: r->delay_ms = atoi(tok); break;
        case 4: snprintf(r->body_file, sizeof r->body_file, "%s", tok); break;
        default: {
          size_t len = strlen(r->headers);
          snprintf(r->headers + len, sizeof r->headers - len, "%s\r\n", tok);
        }
      }
    }
    if (field >= 5) nrules++;
  }
  fclose(f);
}

static Rule *match(const char *method, const char *path) {
  Rule *last = NULL;
  for (int i = 0; i < nrules; i++) {
    Rule *r = &rules[i];
    if (strcmp(r->method, method) != 0 || strcmp(r->path, path) != 0) continue;
    last = r;
    if (!r->used) { r->used = 1; return r; }
  }
  return last;
}

static char *read_body_file(const char *name, size_t *len) {
  *len = 0;
  if (strcmp(name, "-") == 0) return calloc(1, 1);
  char path[1100];
  snprintf(path, sizeof path, "%s/%s", script_dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return calloc(1, 1);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  *len = fread(buf, 1, (size_t)n, f);
  fclose(f);
  return buf;
}

static void serve(int fd, FILE *log) {
  char req[65536];
  size_t n = 0;
  char *end = NULL;
  while (n < sizeof req - 1) {
    ssize_t k = read(fd, req + n, sizeof req - 1 - n);
    if (k <= 0) return;
    n += (size_t)k;
    req[n] = '\0';
    if ((end = strstr(req, "\r\n\r\n")) != NULL) break;
  }
  if (end == NULL) return;
  size_t header_len = (size_t)(end - req) + 4;
  size_t content_length = 0;
  for (char *h = req; h && h < end; h = strstr(h, "\r\n")) {
    if (*h == '\r') h += 2;
    if (strncasecmp(h, "Content-Length:", 15) == 0) content_length = (size_t)atol(h + 15);
  }
  while (n < header_len + content_length && n < sizeof req - 1) {
    ssize_t k = read(fd, req + n, sizeof req - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
  }
  req[n] = '\0';
  char method[16] = "", path[512] = "";
  sscanf(req, "%15s %511s", method, path);
  if (log) {
    /* the request line and headers, then the body */
    fprintf(log, "%.*s\n\n%.*s\n", (int)(header_len - 4), req, (int)n - (int)header_len, req + header_len);
    fprintf(log, "--\n");
    fflush(log);
  }
  Rule *r = match(method, path);
  if (r && r->delay_ms > 0) {
    struct timespec ts = {r->delay_ms / 1000, (long)(r->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  size_t blen = 0;
  char *body = r ? read_body_file(r->body_file, &blen) : strdup("not found");
  if (!r) blen = strlen(body);
  char head[2048];
  int hl = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                    r ? r->status : 404, blen, r ? r->headers : "");
  if (write(fd, head, (size_t)hl) < 0 || write(fd, body, blen) < 0) { /* the client went away */ }
  free(body);
}

int main(int argc, char **argv) {
  const char *script = NULL, *port_file = NULL, *log_path = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--script") == 0) script = argv[i + 1];
    else if (strcmp(argv[i], "--port-file") == 0) port_file = argv[i + 1];
    else if (strcmp(argv[i], "--log") == 0) log_path = argv[i + 1];
  }
  if (!script || !port_file) {
    fprintf(stderr, "usage: fake_http_server --script FILE --port-file FILE [--log FILE]\n");
    return 2;
  }
  load_script(script);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 16) != 0) { perror("bind"); return 2; }
  socklen_t alen = sizeof addr;
  getsockname(s, (struct sockaddr *)&addr, &alen);
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
  FILE *pf = fopen(tmp, "w");
  if (!pf) { perror(tmp); return 2; }
  fprintf(pf, "%d\n", ntohs(addr.sin_port));
  fclose(pf);
  rename(tmp, port_file);
  FILE *log = log_path ? fopen(log_path, "a") : NULL;
  for (;;) {
    int fd = accept(s, NULL, NULL);
    if (fd < 0) continue;
    serve(fd, log);
    close(fd);
  }
}
