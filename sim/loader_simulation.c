/* Network file, section `simulation:` (and the `solver:` mapping that
 * populations share): duration, seed, stepper and tolerances, partitions,
 * threads. */
#include "loader_sections.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/limits.h"
#include "apical/model.h"

/* ------------------------------------------------------------------------ */
/* Solver                                                                    */

static const char *const explicit_steppers[] = {"rk2", "rk4", "rkf45", "rkck", "rk8pd",
                                                "msadams", NULL};
static const char *const implicit_steppers[] = {"rk1imp", "rk2imp", "rk4imp", "bsimp",
                                                "msbdf", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static apical_status check_stepper_name(apical_ld *c, const apical_ynode *n, const char *name)
{
    if (in_list(explicit_steppers, name) || in_list(implicit_steppers, name) ||
        strcmp(name, "exact") == 0 || strcmp(name, "sweep") == 0)
        return APICAL_OK;
    char a[200], b[200];
    apical_ld_join(explicit_steppers, apical_ld_count_names(explicit_steppers), a, sizeof a);
    apical_ld_join(implicit_steppers, apical_ld_count_names(implicit_steppers), b, sizeof b);
    return apical_ld_fail(c, n, APICAL_E_UNKNOWN_NAME,
                "unknown stepper '%s'; valid steppers: %s; with a model Jacobian also: %s; for "
                "models integrable in closed form also: exact; for models with a window "
                "kernel also: sweep",
                name, a, b);
}

/* Implicit steppers call the model's Jacobian; say so here rather than
 * failing in the middle of a run. */
apical_status apical_ld_check_jacobian(apical_ld *c, const apical_pop_spec *pop, const apical_ynode *at)
{
    char a[200];
    apical_ld_join(explicit_steppers, apical_ld_count_names(explicit_steppers), a, sizeof a);
    if (strcmp(pop->stepper, "exact") == 0 && !pop->model->exact) {
        char exact[200] = "";
        for (size_t i = 0; i < apical_model_count(); i++)
            if (apical_model_at(i)->exact)
                snprintf(exact + strlen(exact), sizeof exact - strlen(exact), "%s%s",
                         exact[0] ? ", " : "", apical_model_at(i)->name);
        return apical_ld_fail(c, at, APICAL_E_INVALID,
                    "stepper 'exact' needs a model integrable in closed form (%s), but population "
                    "'%s' uses model '%s'; use one of %s",
                    exact, pop->name, pop->model->name, a);
    }
    if (strcmp(pop->stepper, "sweep") == 0 && !pop->model->sweep) {
        char sweep[200] = "";
        for (size_t i = 0; i < apical_model_count(); i++)
            if (apical_model_at(i)->sweep)
                snprintf(sweep + strlen(sweep), sizeof sweep - strlen(sweep), "%s%s",
                         sweep[0] ? ", " : "", apical_model_at(i)->name);
        return apical_ld_fail(c, at, APICAL_E_INVALID,
                    "stepper 'sweep' needs a model with a window kernel (%s), but population "
                    "'%s' uses model '%s'; use one of %s",
                    sweep, pop->name, pop->model->name, a);
    }
    if (!in_list(implicit_steppers, pop->stepper) || pop->model->jacobian)
        return APICAL_OK;
    return apical_ld_fail(c, at, APICAL_E_INVALID,
                "stepper '%s' needs a Jacobian, but model '%s' (population '%s') has none; "
                "use one of %s",
                pop->stepper, pop->model->name, pop->name, a);
}

/* Parse a `solver:` mapping. Absent values are left as they are. */
apical_status apical_ld_solver(apical_ld *c, const apical_ynode *n, const char *where,
                                const apical_ynode **stepper, double *abs_tol, double *rel_tol)
{
    static const char *const keys[] = {"stepper", "abs_tol", "rel_tol", NULL};
    const apical_bounds pos = {0.0, HUGE_VAL, 1};
    const apical_ynode *v;
    const char *s = "";
    apical_status st;
    char w[160];
    snprintf(w, sizeof w, "the solver of %s", where);
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, w)) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, w)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "stepper")) != NULL) {
        if ((st = apical_ld_string(c, v, "stepper", &s)) != APICAL_OK ||
            (st = check_stepper_name(c, v, s)) != APICAL_OK)
            return st;
        *stepper = v;
    }
    if ((v = apical_ld_get(n, "abs_tol")) != NULL &&
        (st = apical_ld_bounded(c, v, "1", "abs_tol", pos, abs_tol)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "rel_tol")) != NULL &&
        (st = apical_ld_bounded(c, v, "1", "rel_tol", pos, rel_tol)) != APICAL_OK)
        return st;
    return APICAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */

apical_status apical_ld_simulation(apical_ld *c, const apical_ynode *n)
{
    static const char *const keys[] = {"duration", "seed", "solver", "partitions",
                                       "keep_whole_below", "threads", NULL};
    apical_sim_spec *sim = &c->spec->sim;
    const apical_ynode *v;
    uint64_t u;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "simulation")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "simulation")) != APICAL_OK)
        return st;
    sim->pos = apical_ld_pos(c, n);
    /* with a protocol, an omitted duration is the protocol's length */
    if (c->has_protocol && !apical_ld_get(n, "duration")) {
        sim->duration_auto = 1;
    } else if ((st = apical_ld_require(c, n, "duration", "simulation", &v)) != APICAL_OK ||
               (st = apical_ld_bounded(c, v, "ms", "duration",
                                 (apical_bounds){0.0, APICAL_MAX_TIME, APICAL_LO_OPEN}, &sim->duration)) !=
                   APICAL_OK) {
        return st;
    } else {
        sim->duration_pos = apical_ld_pos(c, v);
    }
    if ((v = apical_ld_get(n, "seed")) != NULL) {
        if ((st = apical_ld_uint(c, v, "seed", 0, UINT64_MAX, &sim->seed)) != APICAL_OK)
            return st;
    }
    if ((v = apical_ld_get(n, "partitions")) != NULL) {
        if ((st = apical_ld_uint(c, v, "partitions", 1, APICAL_MAX_PARTITIONS, &u)) != APICAL_OK)
            return st;
        sim->partitions = (unsigned)u;
    }
    if ((v = apical_ld_get(n, "keep_whole_below")) != NULL) {
        if ((st = apical_ld_uint(c, v, "keep_whole_below", 0, UINT32_MAX, &u)) != APICAL_OK)
            return st;
        sim->keep_whole_below = (unsigned)u;
    }
    if ((v = apical_ld_get(n, "threads")) != NULL) {
        if ((st = apical_ld_uint(c, v, "threads", 0, APICAL_MAX_THREADS, &u)) != APICAL_OK)
            return st;
        sim->threads = (unsigned)u;
    }
    if ((v = apical_ld_get(n, "solver")) != NULL) {
        if ((st = apical_ld_solver(c, v, "the simulation", &c->sim_stepper, &sim->abs_tol,
                             &sim->rel_tol)) != APICAL_OK)
            return st;
        if (c->sim_stepper && !(sim->stepper = strdup(c->sim_stepper->text)))
            return apical_ld_oom(c);
    }
    return APICAL_OK;
}
