/* The walk's private declarations: walk.c recurses through the tree and combines figures,
 * walk_price.c prices one basic layer (its parameters, the memo, the calculator call),
 * walk_result.c builds the Lua tables of the result. */
#ifndef LMP_WALK_H
#define LMP_WALK_H

#include "lmp.h"

typedef struct {
  lua_State *L;
  Model *m;
  int64_t in[IN_COUNT];
  int64_t tokens; /* batch_size * seq_len */
  int train;      /* the phase runs the backward pass */
  int lookup, calcs, memo, unknown; /* stack slots: lookup(), class -> calculator, key -> figures, class -> count */
  int max_depth;
  int64_t evaluations;
  uint32_t used; /* bit i: a formula read input i (so a report shows an input only a few models take) */
} Walk;

/* walk.c: raises an lmp.Error located at n; fmt takes lua_pushfstring's formats */
int walk_fail(Walk *w, const Node *n, int code, const char *fmt, ...);

/* walk_price.c: prices basic layer n (one instance, its own repeat not applied) into fig,
 * counting its `instances` when it has no calculator (then fig is zeros and it returns 1).
 * When `show`, sets its fields in the node table at tbl. */
int walk_basic(Walk *w, const Node *n, int64_t instances, i128 fig[N_COUNT], int show, int tbl);
/* the instances of n a token runs through (MoE `active`, a template evaluated like the
 * parameters'); every one of them otherwise */
int64_t walk_active(Walk *w, const Node *n);

/* walk_result.c */
void result_push_node(Walk *w, const Node *n); /* a node's table: name, class, repeat, path */
/* active, figures and incomplete of the node table at tbl */
void result_finish_node(Walk *w, const Node *n, int tbl, const i128 fig[N_COUNT], int unknown);
/* calculator, parameters, unknown and weights_tied_to of a basic layer's table */
void result_set_basic(Walk *w, const Node *n, int tbl, const CalcSpec *spec, int params);
void result_set_figures(Walk *w, int idx, const i128 fig[N_COUNT]);
void result_count_unknown(Walk *w, const char *cls, int64_t instances);
void result_push_unknown(Walk *w); /* unknown_modules: { {class=, count=}, ... } */

#endif
