/* lmp: shared declarations of the C host. One header; each area lives in its own file. */
#ifndef LMP_H
#define LMP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>

#define LMP_VERSION "0.1.0"

/* Exit codes, one named set for the whole program (exported to Lua as lmp.EXIT). */
enum lmp_exit {
  LMP_EXIT_OK = 0,         /* analysis complete */
  LMP_EXIT_INCOMPLETE = 1, /* report printed, but some modules had no calculator */
  LMP_EXIT_USAGE = 2,      /* bad command line or bad input file */
  LMP_EXIT_CALC = 3,       /* a calculator failed or returned a bad value; overflow */
  LMP_EXIT_CHECK = 4,      /* a check (lmp db check, lmp module check) found disagreements */
  LMP_EXIT_INTERNAL = 70   /* a bug in lmp itself (traceback printed) */
};

typedef __int128 i128;

/* errors.c: user-facing errors are lmp.Error objects {code=, message=}; plain string errors
 * are internal and get a traceback. */
/* an lmp.Error whose message is fmt as printf formats it, whole however long, with its
 * control characters made spaces (it quotes input, yet stays one line without terminal
 * escapes): pushed, or raised */
void lmp_push_errorf(lua_State *L, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int lmp_raise(lua_State *L, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* pushes fmt as printf formats it, whole (lua_pushfstring knows fewer formats); returns it */
const char *lmp_pushvformat(lua_State *L, const char *fmt, va_list ap);
/* the exit code of the lmp.Error at idx (LMP_EXIT_USAGE when it has none), or -1 when the
 * value there is not an lmp.Error (a bug: a plain error) */
int lmp_error_code(lua_State *L, int idx);
int luaopen_lmp_errors(lua_State *L);

/* env.c: a size limit from the environment: the variable's positive decimal value when it is
 * one (at most max), else dflt */
size_t lmp_env_size(const char *name, size_t dflt, size_t max);

/* arena.c: bump allocator; a model and everything parsed from it share one arena. */
typedef struct Arena Arena;
Arena *arena_new(void);
/* malloc, or for sizes of 2 MiB and more an mmap marked for huge pages; *mapped says which */
void *lmp_big_alloc(size_t size, size_t *mapped);
void lmp_big_free(void *p, size_t mapped);
void *arena_alloc(Arena *a, size_t size);
char *arena_strndup(Arena *a, const char *s, size_t len);
void arena_free(Arena *a);

/* json.c: a strict JSON parser with exact 64-bit integers and line:column positions. */
typedef enum { JSON_NULL, JSON_BOOL, JSON_INT, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } JsonType;
/* 32 bytes: a million-layer model file is tens of millions of values */
typedef struct JsonValue {
  uint8_t type; /* JsonType */
  uint8_t boolean;
  uint32_t line, col;
  union {
    uint32_t n;   /* JSON_ARR / JSON_OBJ: item count */
    uint32_t len; /* JSON_STR: bytes (the text is also NUL-terminated; it may hold \0) */
  };
  union {
    int64_t integer;
    double number;
    const char *str;
    struct JsonValue *items;
  };
  const char **keys; /* JSON_OBJ: n keys */
} JsonValue;
#define JSON_MAX_DEPTH 256
/* The err buffer of json_parse: a message is a line:column, fixed text and at most 200
 * bytes of a key, so a buffer of this size never cuts one. */
#define JSON_ERR_SIZE 512
JsonValue *json_parse(Arena *a, const char *text, size_t len, char *err, size_t errlen);
/* values in `values`, strings in `strings` (short ones interned: each distinct string once),
 * so that the values can be freed while the strings live on */
JsonValue *json_parse2(Arena *values, Arena *strings, const char *text, size_t len, char *err, size_t errlen);
const JsonValue *json_get(const JsonValue *obj, const char *key);
const char *json_type_name(JsonType t);
void json_push_lua(lua_State *L, const JsonValue *v);
int luaopen_lmp_json(lua_State *L);

/* readfile.c: whole files (core.read_file) */
size_t lmp_max_file_bytes(void);
/* reads a whole file of at most lmp_max_file_bytes() into *out (NUL-terminated; free it
 * with lmp_file_free), or raises an lmp.Error (LMP_EXIT_USAGE) naming the path */
void lmp_read_file(lua_State *L, const char *path, char **out, size_t *len);
void lmp_file_free(char *text);
int luaopen_lmp_readfile(lua_State *L);

/* exact.c: int128 <-> text and Lua */
int i128_to_str(i128 v, char buf[48]);
void lmp_push_i128(lua_State *L, i128 v); /* Lua integer when it fits, else exact decimal string */

/* formula.c: ${param} / {Module} templates over exact rationals. */
typedef struct Formula Formula;
typedef struct FValue {
  i128 num, den; /* value = num/den, den > 0, reduced */
  const char *str; /* non-NULL for a string value */
  size_t slen;
} FValue;
/* Resolvers return 0 on success, or fill err and return -1 (unknown name, bad type). */
typedef int (*formula_lookup_fn)(void *ud, int is_ref, const char *name, FValue *out, char *err, size_t errlen);
#define FORMULA_MAX_LEN 4096
#define FORMULA_MAX_DEPTH 64
/* The err buffer of formula_parse, formula_eval and the lookups: their messages quote at
 * most one name of the formula (so at most FORMULA_MAX_LEN bytes) beside fixed text of less
 * than 1 KiB, so a buffer of this size never cuts one. */
#define FORMULA_ERR_SIZE (FORMULA_MAX_LEN + 1024)
Formula *formula_parse(Arena *a, const char *src, char *err, size_t errlen);
int formula_eval(const Formula *f, formula_lookup_fn lookup, void *ud, FValue *out, char *err, size_t errlen);
const char *formula_source(const Formula *f);
/* Visit every ${name} (is_ref 0) and {Module} (is_ref 1) the formula mentions. */
void formula_names(const Formula *f, void (*visit)(void *ud, int is_ref, const char *name), void *ud);
int luaopen_lmp_formula(lua_State *L);

/* arena.c: an arena owned by a Lua userdata, freed by __gc even when an error unwinds */
Arena *lmp_push_arena(lua_State *L);
void lmp_release_arena(lua_State *L, int idx); /* frees the boxed arena at idx now */

/* model.c: the standard model JSON, validated into a tree. */
typedef enum { P_INT, P_BOOL, P_NUM, P_STR, P_FORMULA } ParamKind;
/* 24 bytes: a million-layer model has millions of them */
typedef struct Param {
  const char *name;
  uint8_t kind;  /* ParamKind */
  uint32_t slen; /* P_STR: bytes of s */
  union {
    int64_t i;    /* P_INT, P_BOOL */
    double d;     /* P_NUM */
    const char *s; /* P_STR */
    Formula *f;   /* P_FORMULA (formula_source gives its text) */
  };
} Param;
typedef struct Node {
  const char *name, *cls, *tied_to;
  struct Node *parent;
  size_t index; /* position in the parent's sub_layers (or in layers) */
  int line, col;
  int64_t repeat;
  int64_t active;      /* MoE: instances a token runs through; -1: all `repeat` of them */
  Formula *active_f;   /* or a ${...} template for it */
  const char *active_src;
  struct Node *kids;
  size_t nkids;
  int composite;
  Param *params; /* sorted by name */
  size_t nparams;
} Node;
typedef struct Model {
  Arena *arena;
  const char *file, *model_id;
  Node *roots;
  size_t nroots;
  size_t n_nodes, n_basic;
  int encoder_only; /* the file's "encoder_only": no KV cache, no decode or generation (BERT) */
  const char *attention; /* the file's "attention": the implementation its transformers class runs by default */
} Model;
#define MODEL_MT "lmp.Model"
#define MODEL_MAX_DEPTH 64
Model *lmp_check_model(lua_State *L, int idx);
/* "$.layers[0].sub_layers[2]" for errors; dotted "model.layers.self_attn" for people */
void node_json_path(const Node *n, luaL_Buffer *b);
void node_dotted_path(const Node *n, luaL_Buffer *b);
int luaopen_lmp_model(lua_State *L);

/* walk.c (with walk_price.c, walk_result.c and their private walk.h): core.analyze */
int luaopen_lmp_walk(lua_State *L);

/* sandbox.c: allocator with a cap, instruction budget, restricted environments. */
typedef struct LmpAlloc {
  size_t used;
  size_t limit;           /* 0: no cap; set only while untrusted code runs */
  int64_t budget;         /* instructions left for the running sandboxed call */
  int cap_hit;            /* the allocator refused because of `limit` */
  int active;             /* a sandboxed call is running (on L) */
  int doomed;             /* DOOM_*: the call must unwind to the host */
  double deadline;        /* thread CPU seconds at which the call's budget is spent (-seconds: not started) */
  size_t grown;           /* bytes sandboxed calls added since calculators' holdings were measured */
  lua_State *L;
} LmpAlloc;
enum { DOOM_BUDGET = 1, DOOM_INTERRUPT = 2 };
void *lmp_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Limits for one sandboxed call (defaults; LMP_CALC_INSTRUCTIONS / LMP_CALC_MEMORY override). */
#define SANDBOX_INSTRUCTIONS 10000000
#define SANDBOX_MEMORY (16u << 20)
/* LMP_CALC_SECONDS: CPU seconds a call may take whatever it runs */
#define SANDBOX_SECONDS 2
/* all calculators together may keep this many times LMP_CALC_MEMORY between calls (one alone, once) */
#define SANDBOX_HELD_TOTAL 8
/* Pushes a fresh restricted environment table (math, string, table copies; kernels). */
void sandbox_push_env(lua_State *L);
/* lua_pcall under the instruction budget and memory cap; on error leaves an lmp.Error
 * (code LMP_EXIT_CALC) whose message starts with `what`. */
int sandbox_pcall(lua_State *L, int nargs, int nresults, const char *what);
/* Charges cost instructions of work done in C to the running sandboxed call (free outside
 * one); raises the budget error when it is spent, "interrupted!" after Ctrl-C. */
void sandbox_charge(lua_State *L, int64_t cost);
/* Measures what the calculator table at impl keeps between calls (named file in errors). */
void sandbox_register(lua_State *L, int impl, const char *file);
/* pattern.c: Lua's pattern functions, metered */
int lmp_str_find(lua_State *L);
int lmp_str_match(lua_State *L);
int lmp_str_gmatch(lua_State *L);
int lmp_str_gsub(lua_State *L);
int luaopen_lmp_sandbox(lua_State *L);

/* concepts.c: the one definition of figures, runtime inputs and phases (exported to Lua as
 * core.CALL_FIGURES, core.FIGURES, core.INPUTS, core.PHASES by luaopen_lmp_concepts). */
/* what one calculator call returns */
typedef enum { CF_FLOPS, CF_MATMUL, CF_PARAMS, CF_READS, CF_WRITES, CF_INTER, CF_WEIGHTS, CF_STATE,
               CF_BWD_FLOPS, CF_BWD_MATMUL, CF_BWD_READS, CF_BWD_WRITES, CF_COUNT } CallFigure;
/* when calc_compute calls the function that gives a call figure: it must exist; it may be
 * absent (the figure is then 0); only for a phase with a backward pass; only then, and it
 * may be absent (the figure then follows the default rule of calc_compute) */
typedef enum { CALL_ALWAYS, CALL_OPTIONAL, CALL_BACKWARD, CALL_BACKWARD_OPTIONAL } CallWhen;
typedef struct {
  const char *name;     /* the key of core.compute's result */
  const char *function; /* the calculator function that gives it */
  const char *field;    /* the field of the table that function returns, or NULL: it returns the integer */
  uint8_t when;         /* CallWhen (for a field: whether it may be left out) */
  const char *doc;
  const char *db_formula; /* the module_db.json field whose formula must equal it, "section.field" */
  uint8_t db_optional;    /* entries may leave that formula out (lmp module compute does not print it) */
} CallFigureDef;
extern const CallFigureDef LMP_CALL_FIGURES[CF_COUNT];
/* the figures of a node (and of the totals) */
typedef enum { N_FLOPS, N_MATMUL, N_PARAMS, N_ACTIVE_PARAMS, N_READS, N_WRITES, N_INTER, N_WEIGHT_BYTES, N_STATE,
               N_PEAK, N_BWD_FLOPS, N_BWD_MATMUL, N_BWD_READS, N_BWD_WRITES, N_OPT_BYTES, N_COUNT } NodeFigure;
/* how one instance's figure becomes a repeated node's: times repeat, times the active
 * instances, times the instances a batch touches (MoE weights), activation part by active and
 * weight part by touched (reads), or not at all (a maximum, over children too) */
typedef enum { SCALE_REPEAT, SCALE_ACTIVE, SCALE_TOUCHED, SCALE_READS, SCALE_PEAK } FigureScale;
/* how the steps of a generation combine it: summed, the last step's, the largest, the first's */
typedef enum { STEPS_SUM, STEPS_LAST, STEPS_MAX, STEPS_FIRST } FigureSteps;
typedef struct {
  const char *name;
  int call;          /* the CallFigure it comes from, -1 when derived (peak) */
  uint8_t scale;     /* FigureScale */
  uint8_t steps;     /* FigureSteps */
  uint8_t train_only; /* a backward-pass figure: in training results only */
  uint8_t exact;      /* an exact integer (written as such, summed in 128 bits), not an estimate */
  const char *unit;  /* "FLOP", "B" or "" (a count) */
  const char *doc;
} FigureDef;
extern const FigureDef LMP_FIGURES_TABLE[N_COUNT];
/* runtime inputs: the variables of ${...} templates and the parameters calculators may take */
typedef enum { IN_BATCH, IN_SEQ, IN_KV, IN_ENC, IN_LOGITS, IN_WBITS, IN_ABITS, IN_KVBITS, IN_IMAGE, IN_ATTN, IN_COUNT } Input;
typedef struct {
  const char *name, *flag; /* "batch_size", the CLI's --batch */
  const char *kind;        /* the CLI's value kind: "count", "bits" or "choice" (a name of `choices`) */
  int64_t def, min, max;
  const char *default_from; /* inputs whose sum is the default ("kv_len + seq_len" for enc_len) */
  const char *bytes_name;   /* a bit width's whole-byte variable ("w_dtype_bytes"), or NULL */
  const char *doc, *note;   /* what it is; what the CLI help adds after the default */
  int when_used;            /* reported only when given or a model's formula reads it (image_size) */
  const char *choices;      /* a "choice": its names, space-separated, the value being the index (0-based) */
} InputDef;
extern const InputDef LMP_INPUTS[IN_COUNT];
typedef enum { PH_PREFILL, PH_DECODE, PH_TRAIN, PH_GENERATE, PH_COUNT } Phase;
typedef struct {
  const char *name;
  uint8_t backward; /* runs the backward pass */
  uint8_t steps;    /* a sequence of analyses (lmp.generate), not one walk */
  const char *doc;
} PhaseDef;
extern const PhaseDef LMP_PHASES[PH_COUNT];
int lmp_input_index(const char *name); /* -1: not an input */
int lmp_phase_index(const char *name); /* -1: not a phase */
int luaopen_lmp_concepts(lua_State *L);

/* exact.c: core.exact (add, sub, mul, div, ceil_div, cmp, max, tostring, value) on figures:
 * Lua integers, or exact decimal strings past 2^63-1 */
int luaopen_lmp_exact(lua_State *L);
/* a Lua integer, or a decimal string of an integer that fits 128 bits, at idx; 0 otherwise */
int lmp_to_i128(lua_State *L, int idx, i128 *out);

/* kernels.c: pushes the kernels table (matmul, elementwise, bytes, mul, add, conv_out, COST,
 * BACKWARD_COST) */
void lmp_push_kernels(lua_State *L);

/* calc.c: the calculator object (a userdata, metatable named LMP_CALCULATOR), loading,
 * validating parameters and calling. */
#define LMP_CALCULATOR "lmp.Calculator"
/* the most parameters a calculator may take (docs/calculators.md) */
#define LMP_MAX_CALC_PARAMS 512
/* one parameter of a calculator, from its normalised required_parameters entry */
typedef struct {
  const char *name; /* anchored by the parameter array */
  char type;        /* 'i'nt (posint is an int with min 1), 'b'ool, 'n'umber, 's'tring */
  uint8_t has_max, has_values, has_default;
  uint8_t has_key_default; /* an integer or boolean default, as key_default (the walk's memo key) */
  int8_t input;            /* the runtime input it is (lmp_input_index), or -1 */
  int64_t min, max, key_default;
} CalcParam;
/* what C reads of a calculator object: built once when the object is made; an alias
 * (core.calculator_alias) shares the parameter array with its target */
typedef struct {
  const char *file, *full_class_name; /* anchored by the object */
  size_t nparams;
  const CalcParam *params; /* sorted by name */
  uint32_t inputs;         /* bit i: it takes runtime input i */
  uint8_t unresolved;      /* an alias file (same_as) as loaded: nothing to call */
} CalcSpec;
/* the spec of the calculator object at idx, or NULL when the value there is not one */
const CalcSpec *calc_spec(lua_State *L, int idx);
int luaopen_lmp_calc(lua_State *L);
/* Calls calculator object at index `calc` on params table at index `params`; fills
 * out[CF_COUNT] in the order of LMP_CALL_FIGURES and returns 0, or raises an LmpError (bad
 * parameters, a calculator error, a figure out of range). want_backward: also call
 * backward() (an error when the calculator has none) */
int calc_compute(lua_State *L, int calc, int params, int want_backward, int64_t out[CF_COUNT]);

/* fs.c: folders, file kinds, locks, atomic writes (core.listdir, ...) */
int luaopen_lmp_fs(lua_State *L);
/* clock.c: core.now_ms, now_us, sleep_ms */
int luaopen_lmp_clock(lua_State *L);
/* process.c: core.exe_path, terminal_columns, spawn_wait */
int luaopen_lmp_process(lua_State *L);

/* main.c: running chunks with a traceback handler and Ctrl-C support; printing errors */
int lmp_docall(lua_State *L, int narg, int nres);
int lmp_report(lua_State *L, int status, int internal_code);

/* repl.c: the interactive REPL (lmp alone on a terminal, lmp repl, lmp -i) */
int lmp_repl(lua_State *L);

/* http.c: libcurl requests */
int luaopen_lmp_http(lua_State *L);

/* core.c: lmp.core (every area's luaopen merged into one table); the state of main.c and
 * the fuzz targets */
int luaopen_lmp_core(lua_State *L);
/* A new Lua state on the counting allocator (alloc) with `panic` as its panic function, the
 * standard libraries without string.dump, and package.preload entries for lmp.core and the
 * embedded lua/lmp files; NULL when out of memory. */
lua_State *lmp_new_state(LmpAlloc *alloc, lua_CFunction panic);

/* embedded_lua.c (generated by cmake/embed.cmake): the lua/lmp sources, compiled in */
typedef struct { const char *name; const char *source; size_t len; } LmpEmbedded;
extern const LmpEmbedded lmp_embedded_lua[];

/* bundled.c: the data files compiled in (embedded_data.c, generated by cmake/embed_data.cmake),
 * read through paths under LMP_BUNDLED. name: the path in the source tree ("models/gpt2.json") */
#define LMP_BUNDLED "(bundled)"
typedef struct { const char *name, *start, *end; } LmpBundled;
extern const LmpBundled lmp_bundled_data[];
/* -1: path is not under LMP_BUNDLED; 0: no such bundled file; 1: a file (*file set when file
 * is not NULL); 2: a folder */
int lmp_bundled_kind(const char *path, const LmpBundled **file);
/* pushes the names in a bundled folder (unsorted) and returns 1, or returns 0 */
int lmp_bundled_names(lua_State *L, const char *path);

#endif
