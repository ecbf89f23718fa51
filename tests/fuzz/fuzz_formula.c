/* libFuzzer target: the formula engine (formula.c). Each input is a template, as a model's
 * parameters and module_db.json's formulas hold them: formula_parse, then formula_names
 * and formula_eval with a lookup that knows a few variables (small, large, negative,
 * fractional, a string) and one module reference, {Linear}. Any error message is an
 * expected result; a crash, sanitizer report or a result that breaks the value invariants
 * (den > 0, num/den reduced; strings only as strings) is a finding. */
#include "fuzz_common.h"

static int gcd_is_one(i128 a, i128 b) {
  unsigned __int128 x = a < 0 ? -(unsigned __int128)a : (unsigned __int128)a, y = (unsigned __int128)b;
  while (y != 0) {
    unsigned __int128 t = x % y;
    x = y;
    y = t;
  }
  return x == 1;
}

static int lookup(void *ud, int is_ref, const char *name, FValue *out, char *err, size_t errlen) {
  (void)ud;
  memset(out, 0, sizeof *out);
  out->den = 1;
  if (is_ref) {
    if (strcmp(name, "Linear") == 0) {
      out->num = 2 * 4096 * 4096;
      return 0;
    }
    snprintf(err, errlen, "unknown module {%s}", name);
    return -1;
  }
  /* the parameters module_db.json's formulas use, plus edge values */
  static const struct { const char *name; long long num, den; } vars[] = {
      {"N", 4096, 1},           {"a_bits", 16, 1},         {"batch_size", 8, 1},     {"bias", 1, 1},
      {"bidirectional", 0, 1},  {"cached_tokens", 4095, 1}, {"dilation", 1, 1},      {"dilation_h", 2, 1},
      {"dilation_w", 1, 1},     {"divisor_numel", 64, 1},  {"elementwise_affine", 1, 1}, {"embedding_dim", 4096, 1},
      {"groups", 1, 1},         {"head_dim", 128, 1},      {"height", 224, 1},       {"hidden_size", 4096, 1},
      {"in_channels", 3, 1},    {"in_features", 4096, 1},  {"k", 3, 1},              {"kernel_h", 3, 1},
      {"kernel_size", 7, 1},    {"kernel_w", 3, 1},        {"key_len", 4096, 1},     {"kv_bits", 8, 1},
      {"length", 1000, 1},      {"masked", 1, 1},          {"new_tokens", 1, 1},     {"nf", 2304, 1},
      {"normalized_shape", 4096, 1}, {"num_embeddings", 32000, 1}, {"num_heads", 32, 1}, {"num_kv_heads", 8, 1},
      {"numel", 1 << 20, 1},    {"nx", 768, 1},            {"out_channels", 64, 1},  {"out_features", 11008, 1},
      {"padding", 3, 1},        {"padding_h", 1, 1},       {"padding_w", 0, 1},      {"q_len", 1, 1},
      {"rows", 4096, 1},        {"seq_len", 2048, 1},      {"stride", 2, 1},         {"stride_h", 1, 1},
      {"stride_w", 2, 1},       {"w_bits", 4, 1},          {"width", 224, 1},        {"kv_len", 0, 1},
      {"w_dtype_bytes", 1, 2},  {"big", INT64_MAX, 1},     {"neg", -3, 1},           {"third", 1, 3},
      {"min64", INT64_MIN, 1}};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    if (strcmp(name, vars[i].name) == 0) {
      out->num = vars[i].num;
      out->den = vars[i].den;
      return 0;
    }
  }
  if (strcmp(name, "mode") == 0 || strcmp(name, "approximate") == 0) {
    out->str = "tanh";
    out->slen = 4;
    return 0;
  }
  if (strcmp(name, "huge") == 0) { /* the largest 128-bit value */
    out->num = (i128)((~(unsigned __int128)0) >> 1);
    return 0;
  }
  snprintf(err, errlen, "unknown parameter '%s'", name);
  return -1;
}

static void visit(void *ud, int is_ref, const char *name) {
  (void)is_ref;
  size_t *count = ud;
  if (name == NULL || name[0] == '\0') abort();
  (*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *src = malloc(size + 1);
  if (src == NULL) return 0;
  memcpy(src, data, size);
  src[size] = '\0';
  Arena *a = arena_new();
  char err[FORMULA_ERR_SIZE];
  err[0] = '\0';
  Formula *f = formula_parse(a, src, err, sizeof err);
  if (f == NULL) {
    if (err[0] == '\0') abort(); /* a failure always says why */
  } else {
    if (strcmp(formula_source(f), src) != 0) abort();
    size_t names = 0;
    formula_names(f, visit, &names);
    FValue v;
    err[0] = '\0';
    if (formula_eval(f, lookup, NULL, &v, err, sizeof err) == 0) {
      if (v.str == NULL && (v.den <= 0 || !gcd_is_one(v.num, v.den))) {
        fprintf(stderr, "fuzz_formula: \"%s\" gave a denormalised value\n", src);
        abort();
      }
    } else if (err[0] == '\0') {
      abort();
    }
  }
  arena_free(a);
  free(src);
  return 0;
}
