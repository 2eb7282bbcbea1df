/* Private to the loader (sim/loader*.c): the section parsers that
 * sim/loader.c calls in file order. The protocol section is parsed by the
 * protocol its `type:` names (include/apical/protocol.h). */
#ifndef APICAL_LOADER_SECTIONS_H
#define APICAL_LOADER_SECTIONS_H

#include "apical/loader.h"

apical_status apical_ld_simulation(apical_ld *c, const apical_ynode *n);
/* A `solver:` mapping (simulation and populations); absent values are
 * left as they are. */
apical_status apical_ld_solver(apical_ld *c, const apical_ynode *n, const char *where,
                               const apical_ynode **stepper, double *abs_tol, double *rel_tol);
/* Implicit steppers call the model's Jacobian, and "exact" needs closed
 * forms: refused at the population (at) rather than in the middle of a run. */
apical_status apical_ld_check_jacobian(apical_ld *c, const apical_pop_spec *pop,
                                       const apical_ynode *at);
apical_status apical_ld_populations(apical_ld *c, const apical_ynode *n);
apical_status apical_ld_projection(apical_ld *c, size_t idx, const apical_ynode *n);
apical_status apical_ld_input(apical_ld *c, size_t idx, const apical_ynode *n);
apical_status apical_ld_recorder(apical_ld *c, size_t idx, const apical_ynode *n);
/* {from_file: {path, dataset}} as the initial value of state field f of
 * pop, and {hebbian: {...}} as a projection's weight (sim/loader_arrays.c). */
apical_status apical_ld_init_file(apical_ld *c, const apical_ynode *n, const apical_field *f,
                                  const apical_pop_spec *pop, apical_dist *d);
apical_status apical_ld_hebbian(apical_ld *c, const apical_ynode *n, const apical_pop_spec *src,
                                const apical_pop_spec *tgt, apical_dist *d);
/* {pattern: {...}}: a cue from a seeded hebbian projection's patterns,
 * checked against the projections by apical_ld_check_cues once they are
 * read. */
apical_status apical_ld_init_pattern(apical_ld *c, const apical_ynode *n, const apical_field *f,
                                     const apical_pop_spec *pop, apical_dist *d);
apical_status apical_ld_check_cues(apical_ld *c);

/* Changing the YAML tree (sim/loader_core.c), for --set
 * (sim/loader_set.c). Every node made belongs to doc. */
/* A shallow copy of n (its own kids array, the same kids), or NULL. */
apical_ynode *apical_ydoc_copy(apical_ydoc *doc, const apical_ynode *n);
apical_ynode *apical_ydoc_scalar(apical_ydoc *doc, const char *text, int set_item);
int apical_ynode_append(apical_ynode *parent, apical_ynode *kid);
/* text parsed as YAML into nodes of doc (an empty text: an empty value),
 * every one marked set_item, without position. Errors are positioned in
 * text, with no file name. */
apical_status apical_ydoc_value(apical_ydoc *doc, const char *text, int set_item,
                                const volatile sig_atomic_t *stop, apical_ynode **out,
                                apical_error *err);
apical_ynode *apical_ydoc_root(apical_ydoc *doc);
void apical_ydoc_set_root(apical_ydoc *doc, apical_ynode *root);

/* Apply c->sets to the tree of doc, in order (sim/loader_set.c). */
apical_status apical_ld_apply_sets(apical_ld *c, apical_ydoc *doc);

#endif
