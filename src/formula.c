/* The ${param} / {Module} formula engine. Formulas are data (model templates, module_db
 * entries), so they are parsed and evaluated here, never handed to Lua's load.
 *
 * Grammar (lowest precedence first):
 *   expr    := or [ '?' expr ':' expr ]
 *   or      := and { '||' and }        and := cmp { '&&' cmp }
 *   cmp     := sum [ ('=='|'!='|'<'|'<='|'>'|'>=') sum ]
 *   sum     := prod { ('+'|'-') prod } prod := unary { ('*'|'/'|'//'|'%') unary }
 *   unary   := ('-'|'+'|'!') unary | primary
 *   primary := number | 'string' | ${name} | {Module} | true | false
 *            | (min|max|ceil|floor)(expr, ...) | '(' expr ')'
 * Values are exact rationals (128-bit numerator and denominator): '/' is true division,
 * '//' floor division, so ceil(${n} * ${bits} / 8) is exact. Booleans are 1 and 0. */
#include <stdio.h>
#include <string.h>

#include "lmp.h"

#define I128_MAX ((i128)((~(unsigned __int128)0) >> 1))
#define I128_MIN (-I128_MAX - 1)

typedef enum { N_NUM, N_STR, N_VAR, N_REF, N_NEG, N_NOT, N_BIN, N_COND, N_CALL } NodeKind;
typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_IDIV, OP_MOD, OP_EQ, OP_NE, OP_LT, OP_LE,
               OP_GT, OP_GE, OP_AND, OP_OR } BinOp;
typedef enum { F_MIN, F_MAX, F_CEIL, F_FLOOR } Func;

typedef struct FNode {
  NodeKind kind;
  int pos; /* 1-based column in the source, for errors */
  int op;  /* BinOp or Func */
  FValue value;
  const char *name;
  struct FNode *a, *b, *c;
  struct FNode **args;
  int nargs;
} FNode;

struct Formula {
  const char *src;
  FNode *root;
};

typedef struct {
  Arena *arena;
  const char *src, *p;
  int depth;
  char *err;
  size_t errlen;
  int failed;
} FParser;

/* "column N: " and the message (at most one name of the formula: FORMULA_ERR_SIZE holds it) */
static void column_message(char *err, size_t errlen, int column, const char *fmt, va_list ap) {
  int n = snprintf(err, errlen, "column %d: ", column);
  if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

static FNode *perr(FParser *ps, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static FNode *perr(FParser *ps, const char *at, const char *fmt, ...) {
  if (!ps->failed) {
    va_list ap;
    va_start(ap, fmt);
    column_message(ps->err, ps->errlen, (int)(at - ps->src) + 1, fmt, ap);
    va_end(ap);
  }
  ps->failed = 1;
  return NULL;
}

static void fskip(FParser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static int accept(FParser *ps, const char *tok) {
  fskip(ps);
  size_t n = strlen(tok);
  if (strncmp(ps->p, tok, n) != 0) return 0;
  /* '/' must not swallow the first half of '//', '<' of '<=', and so on */
  if (n == 1 && (tok[0] == '/' || tok[0] == '<' || tok[0] == '>' || tok[0] == '!') && ps->p[1] == (tok[0] == '/' ? '/' : '='))
    return 0;
  ps->p += n;
  return 1;
}

static FNode *mk(FParser *ps, NodeKind kind, const char *at) {
  FNode *n = arena_alloc(ps->arena, sizeof *n);
  if (n == NULL) return perr(ps, at, "out of memory");
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->pos = (int)(at - ps->src) + 1;
  return n;
}

static int is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.'; }

static FNode *parse_expr(FParser *ps);
static i128 gcd128(i128 a, i128 b);

static FNode *parse_name_in(FParser *ps, NodeKind kind, const char *at, char close) {
  const char *s = ps->p;
  if (!is_ident_start(*s)) return perr(ps, s, "%s", kind == N_VAR ? "expected a parameter name after '${'" : "expected a module name after '{'");
  while (is_ident(*ps->p)) ps->p++;
  const char *e = ps->p;
  if (*ps->p != close) return perr(ps, ps->p, "expected '}' to close the name");
  ps->p++;
  FNode *n = mk(ps, kind, at);
  if (n) n->name = arena_strndup(ps->arena, s, (size_t)(e - s));
  return n;
}

static FNode *parse_primary(FParser *ps) {
  fskip(ps);
  const char *at = ps->p;
  char c = *ps->p;
  if (c == '(') {
    ps->p++;
    FNode *n = parse_expr(ps);
    if (n == NULL) return NULL;
    if (!accept(ps, ")")) return perr(ps, ps->p, "expected ')'");
    return n;
  }
  if (c == '$') {
    if (ps->p[1] != '{') return perr(ps, at, "expected '{' after '$'");
    ps->p += 2;
    return parse_name_in(ps, N_VAR, at, '}');
  }
  if (c == '{') {
    ps->p++;
    return parse_name_in(ps, N_REF, at, '}');
  }
  if (c == '\'' || c == '"') {
    const char *s = ++ps->p;
    while (*ps->p && *ps->p != c) ps->p++;
    if (*ps->p != c) return perr(ps, at, "unterminated string literal");
    FNode *n = mk(ps, N_STR, at);
    if (n == NULL) return NULL;
    n->value.slen = (size_t)(ps->p - s);
    n->value.str = arena_strndup(ps->arena, s, n->value.slen);
    ps->p++;
    return n;
  }
  if (c >= '0' && c <= '9') {
    i128 num = 0, den = 1;
    while (*ps->p >= '0' && *ps->p <= '9') {
      if (__builtin_mul_overflow(num, 10, &num) || __builtin_add_overflow(num, *ps->p - '0', &num))
        return perr(ps, at, "number too large");
      ps->p++;
    }
    if (*ps->p == '.' && ps->p[1] >= '0' && ps->p[1] <= '9') {
      ps->p++;
      while (*ps->p >= '0' && *ps->p <= '9') {
        if (__builtin_mul_overflow(num, 10, &num) || __builtin_add_overflow(num, *ps->p - '0', &num) ||
            __builtin_mul_overflow(den, 10, &den))
          return perr(ps, at, "number has too many digits");
        ps->p++;
      }
    }
    if (is_ident_start(*ps->p)) return perr(ps, ps->p, "unexpected letter after a number");
    FNode *n = mk(ps, N_NUM, at);
    if (n == NULL) return NULL;
    i128 g = gcd128(num, den); /* values are kept reduced: 2.50 is 5/2, 2.0 is the integer 2 */
    n->value.num = num / g;
    n->value.den = den / g;
    return n;
  }
  if (is_ident_start(c)) {
    const char *s = ps->p;
    while (is_ident(*ps->p)) ps->p++;
    size_t len = (size_t)(ps->p - s);
    if ((len == 4 && strncmp(s, "true", 4) == 0) || (len == 5 && strncmp(s, "false", 5) == 0)) {
      FNode *n = mk(ps, N_NUM, at);
      if (n == NULL) return NULL;
      n->value.num = len == 4;
      n->value.den = 1;
      return n;
    }
    static const char *const fnames[] = {"min", "max", "ceil", "floor"};
    int fn = -1;
    for (int i = 0; i < 4; i++)
      if (strlen(fnames[i]) == len && strncmp(s, fnames[i], len) == 0) fn = i;
    if (fn < 0) {
      return perr(ps, s, "unknown name '%.*s' (parameters are written ${name}; functions: min, max, ceil, floor)",
                  (int)(len > 60 ? 60 : len), s);
    }
    if (!accept(ps, "(")) return perr(ps, ps->p, "expected '(' after the function name");
    FNode *args[64];
    int nargs = 0;
    do {
      if (nargs == 64) return perr(ps, ps->p, "too many arguments");
      FNode *a = parse_expr(ps);
      if (a == NULL) return NULL;
      args[nargs++] = a;
    } while (accept(ps, ","));
    if (!accept(ps, ")")) return perr(ps, ps->p, "expected ')' after the arguments");
    if ((fn == F_CEIL || fn == F_FLOOR) && nargs != 1) return perr(ps, at, "ceil and floor take one argument");
    FNode *n = mk(ps, N_CALL, at);
    if (n == NULL) return NULL;
    n->op = fn;
    n->nargs = nargs;
    n->args = arena_alloc(ps->arena, sizeof(FNode *) * (size_t)nargs);
    if (n->args == NULL) return perr(ps, at, "out of memory");
    memcpy(n->args, args, sizeof(FNode *) * (size_t)nargs);
    return n;
  }
  if (c == '\0') return perr(ps, at, "unexpected end of formula");
  return perr(ps, at, "unexpected character");
}

static FNode *parse_unary(FParser *ps) {
  fskip(ps);
  const char *at = ps->p;
  FNode *n; /* a chain of unary operators recurses at most FORMULA_MAX_LEN deep: no count */
  if (accept(ps, "-") || accept(ps, "!")) {
    NodeKind k = at[0] == '-' ? N_NEG : N_NOT;
    FNode *a = parse_unary(ps);
    n = a ? mk(ps, k, at) : NULL;
    if (n) n->a = a;
  } else if (accept(ps, "+")) {
    n = parse_unary(ps);
  } else {
    n = parse_primary(ps);
  }
  return n;
}

static FNode *binary(FParser *ps, FNode *a, int op, FNode *b, const char *at) {
  if (a == NULL || b == NULL) return NULL;
  FNode *n = mk(ps, N_BIN, at);
  if (n) { n->op = op; n->a = a; n->b = b; }
  return n;
}

static FNode *parse_prod(FParser *ps) {
  FNode *n = parse_unary(ps);
  while (n) {
    fskip(ps);
    const char *at = ps->p;
    int op;
    if (accept(ps, "*")) op = OP_MUL;
    else if (accept(ps, "//")) op = OP_IDIV;
    else if (accept(ps, "/")) op = OP_DIV;
    else if (accept(ps, "%")) op = OP_MOD;
    else break;
    n = binary(ps, n, op, parse_unary(ps), at);
  }
  return n;
}

static FNode *parse_sum(FParser *ps) {
  FNode *n = parse_prod(ps);
  while (n) {
    fskip(ps);
    const char *at = ps->p;
    int op;
    if (accept(ps, "+")) op = OP_ADD;
    else if (accept(ps, "-")) op = OP_SUB;
    else break;
    n = binary(ps, n, op, parse_prod(ps), at);
  }
  return n;
}

static FNode *parse_cmp(FParser *ps) {
  FNode *n = parse_sum(ps);
  if (n == NULL) return NULL;
  fskip(ps);
  const char *at = ps->p;
  static const struct { const char *tok; int op; } ops[] = {
      {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"<", OP_LT}, {">", OP_GT}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (accept(ps, ops[i].tok)) return binary(ps, n, ops[i].op, parse_sum(ps), at);
  return n;
}

static FNode *parse_and(FParser *ps) {
  FNode *n = parse_cmp(ps);
  while (n) {
    fskip(ps);
    const char *at = ps->p;
    if (!accept(ps, "&&")) break;
    n = binary(ps, n, OP_AND, parse_cmp(ps), at);
  }
  return n;
}

static FNode *parse_or(FParser *ps) {
  FNode *n = parse_and(ps);
  while (n) {
    fskip(ps);
    const char *at = ps->p;
    if (!accept(ps, "||")) break;
    n = binary(ps, n, OP_OR, parse_and(ps), at);
  }
  return n;
}

/* each parenthesis, argument list and ternary branch is one level of nesting; the whole
 * formula is level 0, so FORMULA_MAX_DEPTH (64, as documented) nested parentheses pass */
static FNode *parse_expr(FParser *ps) {
  fskip(ps);
  const char *at = ps->p;
  if (ps->depth++ > FORMULA_MAX_DEPTH) {
    return perr(ps, at, "formula nested too deeply (more than %d levels)", FORMULA_MAX_DEPTH);
  }
  FNode *n = parse_or(ps);
  if (n && accept(ps, "?")) {
    FNode *a = parse_expr(ps);
    if (a && !accept(ps, ":")) { ps->depth--; return perr(ps, ps->p, "expected ':' in a ? b : c"); }
    FNode *b = a ? parse_expr(ps) : NULL;
    FNode *c = b ? mk(ps, N_COND, at) : NULL;
    if (c) { c->a = n; c->b = a; c->c = b; }
    n = c;
  }
  ps->depth--;
  return n;
}

Formula *formula_parse(Arena *a, const char *src, char *err, size_t errlen) {
  size_t len = strlen(src);
  if (len > FORMULA_MAX_LEN) {
    snprintf(err, errlen, "formula longer than %d characters", FORMULA_MAX_LEN);
    return NULL;
  }
  FParser ps = {a, src, src, 0, err, errlen, 0};
  FNode *root = parse_expr(&ps);
  if (root == NULL) return NULL;
  fskip(&ps);
  if (*ps.p != '\0') {
    perr(&ps, ps.p, "unexpected text after the end of the formula");
    return NULL;
  }
  Formula *f = arena_alloc(a, sizeof *f);
  char *copy = arena_strndup(a, src, len);
  if (f == NULL || copy == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  f->src = copy;
  f->root = root;
  return f;
}

const char *formula_source(const Formula *f) { return f->src; }

static void names_of(const FNode *n, void (*visit)(void *, int, const char *), void *ud) {
  if (n == NULL) return;
  if (n->kind == N_VAR || n->kind == N_REF) visit(ud, n->kind == N_REF, n->name);
  names_of(n->a, visit, ud);
  names_of(n->b, visit, ud);
  names_of(n->c, visit, ud);
  for (int i = 0; i < n->nargs; i++) names_of(n->args[i], visit, ud);
}

void formula_names(const Formula *f, void (*visit)(void *, int, const char *), void *ud) {
  names_of(f->root, visit, ud);
}

/* ---- evaluation over exact rationals ---- */

typedef struct {
  formula_lookup_fn lookup;
  void *ud;
  char *err;
  size_t errlen;
} Eval;

static int eerr(Eval *ev, const FNode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int eerr(Eval *ev, const FNode *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  column_message(ev->err, ev->errlen, n->pos, fmt, ap);
  va_end(ap);
  return -1;
}

/* out of line: its buffer is on the stack only while a lookup runs, not in every level of
 * eval_node's recursion */
static __attribute__((noinline)) int eval_lookup(Eval *ev, const FNode *n, FValue *out) {
  char msg[FORMULA_ERR_SIZE];
  if (ev->lookup == NULL) return eerr(ev, n, "unknown parameter '%s'", n->name);
  if (ev->lookup(ev->ud, n->kind == N_REF, n->name, out, msg, sizeof msg) != 0) return eerr(ev, n, "%s", msg);
  if (out->str == NULL && out->den <= 0) return eerr(ev, n, "resolver returned a bad value");
  return 0;
}

/* over the magnitudes, unsigned: -a overflows for a = -2^127, a value sums can reach. Every
 * caller passes b != 0, so the result (at most |b|) fits. */
static i128 gcd128(i128 a, i128 b) {
  unsigned __int128 x = a < 0 ? -(unsigned __int128)a : (unsigned __int128)a;
  unsigned __int128 y = b < 0 ? -(unsigned __int128)b : (unsigned __int128)b;
  while (y != 0) {
    unsigned __int128 t = x % y;
    x = y;
    y = t;
  }
  return (i128)x;
}

static int make(Eval *ev, const FNode *n, i128 num, i128 den, FValue *out) {
  if (den == 0) return eerr(ev, n, "division by zero");
  if (den < 0) {
    if (num == I128_MIN || den == I128_MIN) return eerr(ev, n, "integer overflow (beyond 128 bits)");
    num = -num;
    den = -den;
  }
  i128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  out->num = num;
  out->den = den;
  out->str = NULL;
  out->slen = 0;
  return 0;
}

#define OVF(expr) do { if (expr) return eerr(ev, n, "integer overflow (beyond 128 bits)"); } while (0)

static int arith(Eval *ev, const FNode *n, int op, const FValue *x, const FValue *y, FValue *out) {
  i128 a, b, c, d;
  switch (op) {
    case OP_ADD:
    case OP_SUB: {
      OVF(__builtin_mul_overflow(x->num, y->den, &a));
      OVF(__builtin_mul_overflow(y->num, x->den, &b));
      OVF(__builtin_mul_overflow(x->den, y->den, &d));
      OVF(op == OP_ADD ? __builtin_add_overflow(a, b, &c) : __builtin_sub_overflow(a, b, &c));
      return make(ev, n, c, d, out);
    }
    case OP_MUL:
      OVF(__builtin_mul_overflow(x->num, y->num, &c));
      OVF(__builtin_mul_overflow(x->den, y->den, &d));
      return make(ev, n, c, d, out);
    case OP_DIV:
    case OP_IDIV:
    case OP_MOD: {
      if (y->num == 0) return eerr(ev, n, op == OP_MOD ? "modulo by zero" : "division by zero");
      OVF(__builtin_mul_overflow(x->num, y->den, &c));
      OVF(__builtin_mul_overflow(x->den, y->num, &d));
      FValue q;
      if (make(ev, n, c, d, &q) != 0) return -1;
      if (op == OP_DIV) { *out = q; return 0; }
      i128 fl = q.num / q.den;
      if ((q.num % q.den != 0) && (q.num < 0)) fl -= 1;
      if (op == OP_IDIV) return make(ev, n, fl, 1, out);
      /* x - y*floor(x/y) */
      FValue f = {fl, 1, NULL, 0}, t;
      if (arith(ev, n, OP_MUL, y, &f, &t) != 0) return -1;
      return arith(ev, n, OP_SUB, x, &t, out);
    }
    default: {
      /* comparison: compare x.num*y.den with y.num*x.den (denominators positive) */
      OVF(__builtin_mul_overflow(x->num, y->den, &a));
      OVF(__builtin_mul_overflow(y->num, x->den, &b));
      int r;
      switch (op) {
        case OP_EQ: r = a == b; break;
        case OP_NE: r = a != b; break;
        case OP_LT: r = a < b; break;
        case OP_LE: r = a <= b; break;
        case OP_GT: r = a > b; break;
        default: r = a >= b; break;
      }
      return make(ev, n, r, 1, out);
    }
  }
}

static int eval_node(Eval *ev, const FNode *n, FValue *out);

static int eval_num(Eval *ev, const FNode *n, FValue *out) {
  if (eval_node(ev, n, out) != 0) return -1;
  if (out->str != NULL) return eerr(ev, n, "a string where a number is needed");
  return 0;
}

static int eval_node(Eval *ev, const FNode *n, FValue *out) {
  FValue x, y;
  switch (n->kind) {
    case N_NUM:
    case N_STR:
      *out = n->value;
      return 0;
    case N_VAR:
    case N_REF:
      return eval_lookup(ev, n, out);
    case N_NEG:
      if (eval_num(ev, n->a, &x) != 0) return -1;
      OVF(__builtin_sub_overflow((i128)0, x.num, &x.num));
      *out = x;
      return 0;
    case N_NOT:
      if (eval_num(ev, n->a, &x) != 0) return -1;
      return make(ev, n, x.num == 0, 1, out);
    case N_COND:
      if (eval_num(ev, n->a, &x) != 0) return -1;
      return eval_node(ev, x.num != 0 ? n->b : n->c, out);
    case N_CALL: {
      if (eval_num(ev, n->args[0], out) != 0) return -1;
      if (n->op == F_CEIL || n->op == F_FLOOR) {
        i128 fl = out->num / out->den;
        if (out->num % out->den != 0) {
          if (out->num < 0) fl -= 1;
          if (n->op == F_CEIL) fl += 1;
        }
        return make(ev, n, fl, 1, out);
      }
      for (int i = 1; i < n->nargs; i++) {
        if (eval_num(ev, n->args[i], &y) != 0) return -1;
        FValue lt;
        if (arith(ev, n, OP_LT, &y, out, &lt) != 0) return -1;
        if ((lt.num != 0) == (n->op == F_MIN)) *out = y;
      }
      return 0;
    }
    case N_BIN:
      if (n->op == OP_AND || n->op == OP_OR) {
        if (eval_num(ev, n->a, &x) != 0) return -1;
        if ((x.num != 0) == (n->op == OP_OR)) return make(ev, n, n->op == OP_OR, 1, out);
        if (eval_num(ev, n->b, &y) != 0) return -1;
        return make(ev, n, y.num != 0, 1, out);
      }
      if (eval_node(ev, n->a, &x) != 0 || eval_node(ev, n->b, &y) != 0) return -1;
      if (x.str != NULL || y.str != NULL) {
        if ((n->op != OP_EQ && n->op != OP_NE) || x.str == NULL || y.str == NULL)
          return eerr(ev, n, "strings can only be compared with == and != to other strings");
        int same = x.slen == y.slen && memcmp(x.str, y.str, x.slen) == 0;
        return make(ev, n, n->op == OP_EQ ? same : !same, 1, out);
      }
      return arith(ev, n, n->op, &x, &y, out);
  }
  return eerr(ev, n, "internal error: bad node");
}

int formula_eval(const Formula *f, formula_lookup_fn lookup, void *ud, FValue *out, char *err, size_t errlen) {
  Eval ev = {lookup, ud, err, errlen};
  return eval_node(&ev, f->root, out);
}

/* ---- Lua binding: lmp.core.eval(formula, vars [, resolve_module]) ---- */

#include <math.h>

/* A double is a dyadic rational: mantissa * 2^exp, exact when it fits. */
static int double_to_fvalue(double d, FValue *out) {
  if (!isfinite(d)) return -1;
  int exp;
  double m = frexp(d, &exp);
  i128 num = (i128)ldexp(m, 53);
  exp -= 53;
  i128 den = 1;
  if (exp > 0) {
    if (exp > 70) return -1;
    num *= (i128)1 << exp;
  } else if (exp < 0) {
    if (-exp > 120) return -1;
    den = (i128)1 << -exp;
  }
  i128 g = gcd128(num, den);
  out->num = num / g;
  out->den = den / g;
  out->str = NULL;
  out->slen = 0;
  return 0;
}

/* Converts the Lua value at idx; returns -1 with a message for other types. */
static int lua_to_fvalue(lua_State *L, int idx, const char *name, FValue *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->den = 1;
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: out->num = lua_toboolean(L, idx); return 0;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) { out->num = lua_tointeger(L, idx); return 0; }
      if (double_to_fvalue(lua_tonumber(L, idx), out) == 0) return 0;
      snprintf(err, errlen, "parameter '%s' is not a finite number of usable size", name);
      return -1;
    case LUA_TSTRING: {
      /* an exact decimal integer (how lmp hands out figures past 2^63) is a number */
      size_t len;
      const char *str = lua_tolstring(L, idx, &len);
      const char *d = str + (len > 0 && str[0] == '-');
      int digits = d < str + len;
      for (const char *c = d; c < str + len; c++)
        if (*c < '0' || *c > '9') digits = 0;
      if (digits && len <= 38) {
        i128 v = 0;
        for (const char *c = d; c < str + len; c++) v = v * 10 + (*c - '0');
        out->num = d == str ? v : -v;
        return 0;
      }
      out->str = str;
      out->slen = len;
      return 0;
    }
    default:
      snprintf(err, errlen, "parameter '%s' is %s, not a number, boolean or string", name, luaL_typename(L, idx));
      return -1;
  }
}

typedef struct {
  lua_State *L;
  int vars, resolver;
} LuaLookup;

static int lua_lookup(void *ud, int is_ref, const char *name, FValue *out, char *err, size_t errlen) {
  LuaLookup *lk = ud;
  lua_State *L = lk->L;
  luaL_checkstack(L, 3, "formula evaluation");
  if (is_ref) {
    if (lk->resolver == 0) {
      snprintf(err, errlen, "module reference {%s} with no module database to resolve it", name);
      return -1;
    }
    lua_pushvalue(L, lk->resolver);
    lua_pushstring(L, name);
    lua_call(L, 1, 1); /* errors propagate as Lua errors, with the resolver's message */
  } else {
    lua_getfield(L, lk->vars, name);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      snprintf(err, errlen, "unknown parameter '%s'", name);
      return -1;
    }
  }
  int rc = lua_to_fvalue(L, -1, name, out, err, errlen);
  if (out->str == NULL) lua_pop(L, 1); /* a string stays on the stack until eval returns */
  return rc;
}

static int l_eval(lua_State *L) {
  const char *src = luaL_checkstring(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  else { lua_newtable(L); lua_replace(L, 2); }
  int has_resolver = !lua_isnoneornil(L, 3);
  if (has_resolver) luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  Arena *a = lmp_push_arena(L);
  char err[FORMULA_ERR_SIZE];
  Formula *f = formula_parse(a, src, err, sizeof err);
  FValue v;
  LuaLookup lk = {L, 2, has_resolver ? 3 : 0};
  int rc = f == NULL ? -1 : formula_eval(f, lua_lookup, &lk, &v, err, sizeof err);
  /* long formulas are cut in messages so that the problem itself stays visible */
  int shown = (int)strlen(src) > 80 ? 80 : (int)strlen(src);
  const char *more = (int)strlen(src) > 80 ? "..." : "";
  if (rc != 0) return lmp_raise(L, LMP_EXIT_USAGE, "formula \"%.*s%s\": %s", shown, src, more, err);
  if (v.str != NULL) return lmp_raise(L, LMP_EXIT_USAGE, "formula \"%.*s%s\": result is a string, not a number", shown, src, more);
  if (v.den != 1) {
    char n[48], d[48];
    i128_to_str(v.num, n);
    i128_to_str(v.den, d);
    return lmp_raise(L, LMP_EXIT_USAGE, "formula \"%.*s%s\": result %s/%s is not an integer (use ceil, floor or //)", shown, src, more, n, d);
  }
  lmp_push_i128(L, v.num);
  return 1;
}

int luaopen_lmp_formula(lua_State *L) {
  static const luaL_Reg fns[] = {{"eval", l_eval}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
