/* The one definition of lmp's concepts: the figures a calculator returns for one call, the
 * figures of a node of the result (and how repeat, MoE `active`, the tree and the steps of a
 * generation combine each), the runtime inputs of an analysis and the phases. C code reads
 * these tables; Lua reads them as core.CALL_FIGURES, core.FIGURES, core.INPUTS and
 * core.PHASES. Adding a figure or an input is a row here (plus the calculators that give or
 * use it); docs/architecture.md lists what else such a change touches. */
#include <string.h>

#include "lmp.h"

/* in the order of enum CallFigure, which is the order calc_compute reads and checks them */
const CallFigureDef LMP_CALL_FIGURES[CF_COUNT] = {
    {"flops", "flops", NULL, CALL_ALWAYS, "floating-point operations of one forward call (matmul ones included)",
     "flop_analysis.calculation_formula", 0},
    {"matmul_flops", "matmul_flops", NULL, CALL_ALWAYS, "the part of flops done by matrix multiplications",
     "flop_analysis.matmul_calculation_formula", 0},
    {"params", "params", NULL, CALL_ALWAYS, "parameters the layer holds", "params_analysis.calculation_formula", 0},
    {"reads", "memory", "reads", CALL_ALWAYS, "bytes read: weights and activation inputs",
     "memory_analysis.reads_calculation_formula", 0},
    {"writes", "memory", "writes", CALL_ALWAYS, "bytes of activation outputs written",
     "memory_analysis.writes_calculation_formula", 0},
    {"intermediates", "memory", "intermediates", CALL_ALWAYS, "bytes of intermediate tensors made and dropped inside the call",
     "memory_analysis.intermediates_calculation_formula", 0},
    {"weights", "memory", "weights", CALL_OPTIONAL, "the part of reads that is weights (a layer with parameters must give it)",
     "memory_analysis.weights_calculation_formula", 1},
    {"state", "state", NULL, CALL_OPTIONAL, "bytes the layer keeps after the call (a KV cache)",
     "memory_analysis.state_calculation_formula", 1},
    {"backward_flops", "backward", "flops", CALL_BACKWARD, "floating-point operations of the backward pass",
     "backward_analysis.calculation_formula", 1},
    {"backward_matmul_flops", "backward", "matmul_flops", CALL_BACKWARD,
     "the part of backward_flops done by matrix multiplications", "backward_analysis.matmul_calculation_formula", 1},
    {"backward_reads", "backward", "reads", CALL_BACKWARD_OPTIONAL,
     "bytes the backward pass reads: incoming gradients, saved activations, weights (default: writes + reads + intermediates)",
     "backward_analysis.reads_calculation_formula", 1},
    {"backward_writes", "backward", "writes", CALL_BACKWARD_OPTIONAL,
     "bytes the backward pass writes: input and weight gradients (default: reads, one gradient per input and weight byte)",
     "backward_analysis.writes_calculation_formula", 1},
};

/* in the order of enum NodeFigure */
const FigureDef LMP_FIGURES_TABLE[N_COUNT] = {
    {"flops", CF_FLOPS, SCALE_ACTIVE, STEPS_SUM, 0, 1, "FLOP", "floating-point operations (in training: forward + backward)"},
    {"matmul_flops", CF_MATMUL, SCALE_ACTIVE, STEPS_SUM, 0, 1, "FLOP", "the part of flops done by matrix multiplications"},
    {"params", CF_PARAMS, SCALE_REPEAT, STEPS_FIRST, 0, 1, "", "parameters (tied weights counted once, at their owner)"},
    {"active_params", CF_PARAMS, SCALE_ACTIVE, STEPS_FIRST, 0, 1, "", "parameters a token runs through (MoE: active experts)"},
    {"reads_bytes", CF_READS, SCALE_READS, STEPS_SUM, 0, 1, "B", "bytes read: activation inputs per active instance, weights per instance touched"},
    {"writes_bytes", CF_WRITES, SCALE_ACTIVE, STEPS_SUM, 0, 1, "B", "bytes of activation outputs written"},
    {"intermediates_bytes", CF_INTER, SCALE_ACTIVE, STEPS_SUM, 0, 1, "B", "bytes of intermediate tensors"},
    {"weight_bytes", CF_WEIGHTS, SCALE_TOUCHED, STEPS_SUM, 0, 1, "B", "the part of reads_bytes that is weights"},
    {"state_bytes", CF_STATE, SCALE_ACTIVE, STEPS_LAST, 0, 1, "B", "bytes held after the step (the KV cache)"},
    {"peak_activation_bytes", -1, SCALE_PEAK, STEPS_MAX, 0, 1, "B",
     "the largest working set of one basic layer: activation inputs + outputs + intermediates"},
    {"backward_flops", CF_BWD_FLOPS, SCALE_ACTIVE, STEPS_SUM, 1, 1, "FLOP", "the backward pass's share of flops"},
    {"backward_matmul_flops", CF_BWD_MATMUL, SCALE_ACTIVE, STEPS_SUM, 1, 1, "FLOP", "the backward pass's share of matmul_flops"},
    {"backward_reads_bytes", CF_BWD_READS, SCALE_READS, STEPS_SUM, 1, 1, "B",
     "bytes the backward pass reads (its weight part is weight_bytes)"},
    {"backward_writes_bytes", CF_BWD_WRITES, SCALE_READS, STEPS_SUM, 1, 1, "B",
     "bytes the backward pass writes: input and weight gradients (its weight part is weight_bytes)"},
    {"optimizer_bytes", -1, SCALE_REPEAT, STEPS_SUM, 1, 1, "B",
     "bytes Adam's step reads and writes for the parameters (mixed precision: gradient, fp32 master, m and v)"},
};

/* in the order of enum Input */
const InputDef LMP_INPUTS[IN_COUNT] = {
    {"batch_size", "batch", "count", 1, 1, INT64_MAX, NULL, NULL, "batch size", NULL, 0, NULL},
    {"seq_len", "seq", "count", 2048, 1, INT64_MAX, NULL, NULL, "tokens processed in this step", "1 for --phase decode", 0, NULL},
    {"kv_len", "kv-len", "count", 0, 0, INT64_MAX, NULL, NULL, "tokens already in the KV cache", "needed for decode", 0, NULL},
    {"enc_len", "enc-len", "count", 0, 1, INT64_MAX, "kv_len + seq_len", NULL, "encoder positions of an encoder-decoder model",
     NULL, 0, NULL},
    {"logits_len", "logits-len", "count", 0, 1, INT64_MAX, "seq_len", NULL, "last positions lm_head projects",
     "generate's prefill: 1", 0, NULL},
    {"w_bits", "w-bits", "bits", 16, 1, 64, NULL, "w_dtype_bytes", "bits per weight", "4, int4, nf4, fp8, bf16, ...", 0, NULL},
    {"a_bits", "a-bits", "bits", 16, 1, 64, NULL, "a_dtype_bytes", "bits per activation", NULL, 0, NULL},
    {"kv_bits", "kv-bits", "bits", 16, 1, 64, NULL, "kv_dtype_bytes", "bits per KV-cache entry", NULL, 0, NULL},
    {"image_size", "image-size", "count", 224, 1, INT64_MAX, NULL, NULL, "side of a square input image",
     "export-torch's vision models", 1, NULL},
    {"attention", "attention", "choice", 1, 0, 2, NULL, NULL, "eager (stores scores), sdpa or flash",
     "BLOOM, T5: eager", 1, "eager sdpa flash"},
};

/* in the order of enum Phase */
const PhaseDef LMP_PHASES[PH_COUNT] = {
    {"prefill", 0, 0, "a forward pass over seq_len new tokens (after kv_len cached ones)"},
    {"decode", 0, 0, "a forward pass of seq_len (usually 1) tokens over a KV cache of kv_len"},
    {"train", 1, 0, "forward + backward, mixed-precision Adam; no KV cache"},
    {"generate", 0, 1, "a prefill of the prompt, then one decode step per further new token, summed"},
};

int lmp_input_index(const char *name) {
  for (int i = 0; i < IN_COUNT; i++)
    if (strcmp(name, LMP_INPUTS[i].name) == 0) return i;
  return -1;
}

int lmp_phase_index(const char *name) {
  for (int i = 0; i < PH_COUNT; i++)
    if (strcmp(name, LMP_PHASES[i].name) == 0) return i;
  return -1;
}

static const char *const SCALE_NAMES[] = {"repeat", "active", "touched", "reads", "peak"};
static const char *const STEPS_NAMES[] = {"sum", "last", "max", "first"};

static void set_str(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, int64_t v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/* row i of a table: one field per column */
static void push_call_figure(lua_State *L, int i) {
  const CallFigureDef *c = &LMP_CALL_FIGURES[i];
  set_str(L, "name", c->name);
  lua_pushfstring(L, "%s()%s%s", c->function, c->field ? "." : "", c->field ? c->field : "");
  lua_setfield(L, -2, "source");
  set_str(L, "doc", c->doc);
  set_str(L, "db_formula", c->db_formula);
  set_bool(L, "db_optional", c->db_optional);
}

static void push_figure(lua_State *L, int i) {
  const FigureDef *f = &LMP_FIGURES_TABLE[i];
  set_str(L, "name", f->name);
  if (f->call >= 0) set_str(L, "call", LMP_CALL_FIGURES[f->call].name);
  set_str(L, "scale", SCALE_NAMES[f->scale]);
  set_str(L, "steps", STEPS_NAMES[f->steps]);
  set_bool(L, "train_only", f->train_only);
  set_bool(L, "exact", f->exact);
  set_str(L, "unit", f->unit);
  set_str(L, "doc", f->doc);
}

static void push_input(lua_State *L, int i) {
  const InputDef *in = &LMP_INPUTS[i];
  set_str(L, "name", in->name);
  set_str(L, "flag", in->flag);
  set_str(L, "kind", in->kind);
  if (in->default_from == NULL) set_int(L, "default", in->def);
  set_str(L, "default_from", in->default_from);
  set_int(L, "min", in->min);
  set_int(L, "max", in->max);
  set_str(L, "bytes_name", in->bytes_name);
  set_str(L, "doc", in->doc);
  set_str(L, "note", in->note);
  set_bool(L, "when_used", in->when_used);
  if (in->choices != NULL) { /* choices: the names in order (value 0, 1, ...) */
    lua_newtable(L);
    lua_Integer k = 0;
    for (const char *p = in->choices; *p;) {
      const char *e = strchr(p, ' ');
      size_t len = e ? (size_t)(e - p) : strlen(p);
      lua_pushlstring(L, p, len);
      lua_rawseti(L, -2, ++k);
      p += len + (e != NULL);
    }
    lua_setfield(L, -2, "choices");
  }
}

static void push_phase(lua_State *L, int i) {
  set_str(L, "name", LMP_PHASES[i].name);
  set_bool(L, "backward", LMP_PHASES[i].backward);
  set_bool(L, "steps", LMP_PHASES[i].steps);
  set_str(L, "doc", LMP_PHASES[i].doc);
}

/* core[name]: the rows in order, also indexed by name */
static void set_table(lua_State *L, const char *name, int count, void (*push_row)(lua_State *, int)) {
  lua_createtable(L, count, count);
  for (int i = 0; i < count; i++) {
    lua_newtable(L);
    push_row(L, i);
    lua_getfield(L, -1, "name");
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, name);
}

int luaopen_lmp_concepts(lua_State *L) {
  lua_newtable(L);
  set_table(L, "CALL_FIGURES", CF_COUNT, push_call_figure);
  set_table(L, "FIGURES", N_COUNT, push_figure);
  set_table(L, "INPUTS", IN_COUNT, push_input);
  set_table(L, "PHASES", PH_COUNT, push_phase);
  return 1;
}
