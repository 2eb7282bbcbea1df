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

#endif
