/* Network file, section `populations:`: size, model, parameters, initial
 * state, per-population solver. */
#include "loader_sections.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/limits.h"
#include "apical/units.h"

static apical_status parse_population(apical_ld *c, const apical_ynode *key, const apical_ynode *n,
                                      apical_pop_spec *pop)
{
    static const char *const keys[] = {"size", "model", "parameters", "initial", "solver",
                                       "whole_cost", NULL};
    const apical_sim_spec *sim = &c->spec->sim;
    const apical_ynode **pnode = NULL;
    const apical_ynode *v, *stepper = NULL;
    const char *s = "";
    char where[200], list[700];
    apical_status st;

    if ((st = apical_ld_check_name(c, key, key->text, "a population name")) != APICAL_OK)
        return st;
    if (!(pop->name = strdup(key->text)))
        return apical_ld_oom(c);
    pop->pos = apical_ld_pos(c, key);
    snprintf(where, sizeof where, "population '%s'", pop->name);
    if (n->kind != APICAL_Y_MAP) {
        char b[80];
        return apical_ld_fail(c, n, APICAL_E_TYPE,
                    "population '%s' must be a mapping with at least 'size' and 'model', got %s",
                    pop->name, apical_ld_describe(n, b, sizeof b));
    }
    if ((st = apical_ld_check_keys(c, n, keys, where)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "whole_cost")) != NULL) {
        if ((st = apical_ld_bounded(c, v, "1", "whole_cost", (apical_bounds){0.0, 1e6, 0},
                                    &pop->whole_cost)) != APICAL_OK)
            return st;
        pop->keep_whole = 1;
    }
    if ((st = apical_ld_require(c, n, "size", where, &v)) != APICAL_OK ||
        (st = apical_ld_uint(c, v, "size", 1, APICAL_MAX_POP_SIZE, &pop->size)) != APICAL_OK)
        return st;
    if ((st = apical_ld_require(c, n, "model", where, &v)) != APICAL_OK ||
        (st = apical_ld_string(c, v, "model", &s)) != APICAL_OK)
        return st;
    if (!(pop->model = apical_model_find(s))) {
        apical_model_names(list, sizeof list);
        return apical_ld_fail(c, v, APICAL_E_UNKNOWN_MODEL, "unknown model '%s'; valid models: %s", s,
                    list);
    }
    const apical_model_type *m = pop->model;

    pop->param = malloc((m->n_params ? m->n_params : 1) * sizeof *pop->param);
    pop->init = malloc((m->n_state ? m->n_state : 1) * sizeof *pop->init);
    pnode = calloc(m->n_params ? m->n_params : 1, sizeof *pnode);
    if (!pop->param || !pop->init || !pnode) {
        st = apical_ld_oom(c);
        goto out;
    }
    for (size_t k = 0; k < m->n_params; k++)
        pop->param[k] = m->params[k].def;
    for (size_t k = 0; k < m->n_state; k++)
        pop->init[k] = (apical_dist){APICAL_DIST_CONSTANT, m->state[k].def, 0.0, -HUGE_VAL,
                                     HUGE_VAL, pop->pos, NULL, 0, 0, 0};

    const apical_ynode *params = apical_ld_get(n, "parameters");
    if (params && !params->is_null) {
        snprintf(where, sizeof where, "the parameters of population '%s'", pop->name);
        if ((st = apical_ld_need_kind(c, params, APICAL_Y_MAP, where)) != APICAL_OK)
            goto out;
        for (size_t i = 0; i + 1 < params->n_kids; i += 2) {
            const apical_ynode *pk = params->kids[i], *pv = params->kids[i + 1];
            size_t k = apical_field_index(m->params, m->n_params, pk->text);
            if (k == (size_t)-1) {
                apical_ld_join_fields(m->params, m->n_params, list, sizeof list);
                st = apical_ld_fail(c, pk, APICAL_E_UNKNOWN_NAME,
                          "model '%s' has no parameter '%s'; its parameters: %s", m->name,
                          pk->text, list);
                goto out;
            }
            const apical_field *f = &m->params[k];
            if ((st = apical_ld_bounded(c, pv, f->unit, f->name, (apical_bounds){f->lo, f->hi, 0},
                                  &pop->param[k])) != APICAL_OK)
                goto out;
            pnode[k] = pv;
        }
    }
    if (m->check) {
        char why[512] = "";
        size_t bad = m->check(pop->param, why, sizeof why);
        if (bad) {
            const apical_ynode *at = bad <= m->n_params && pnode[bad - 1] ? pnode[bad - 1]
                              : params && !params->is_null ? params
                                                           : key;
            st = apical_ld_fail(c, at, APICAL_E_RANGE, "population '%s': %s", pop->name, why);
            goto out;
        }
    }

    const apical_ynode *init = apical_ld_get(n, "initial");
    if (init && !init->is_null) {
        snprintf(where, sizeof where, "the initial state of population '%s'", pop->name);
        if ((st = apical_ld_need_kind(c, init, APICAL_Y_MAP, where)) != APICAL_OK)
            goto out;
        for (size_t i = 0; i + 1 < init->n_kids; i += 2) {
            const apical_ynode *ik = init->kids[i], *iv = init->kids[i + 1];
            size_t k = apical_field_index(m->state, m->n_state, ik->text);
            if (k == (size_t)-1) {
                apical_ld_join_fields(m->state, m->n_state, list, sizeof list);
                st = apical_ld_fail(c, ik, APICAL_E_UNKNOWN_NAME,
                          "model '%s' has no state variable '%s'; its state variables: %s",
                          m->name, ik->text, list);
                goto out;
            }
            const apical_field *f = &m->state[k];
            if (iv->kind == APICAL_Y_MAP && apical_ld_get(iv, "from_file")) {
                if ((st = apical_ld_init_file(c, iv, f, pop, &pop->init[k])) != APICAL_OK)
                    goto out;
                continue;
            }
            if (iv->kind == APICAL_Y_MAP && apical_ld_get(iv, "pattern")) {
                if ((st = apical_ld_init_pattern(c, iv, f, pop, &pop->init[k])) != APICAL_OK)
                    goto out;
                continue;
            }
            if ((st = apical_ld_dist(c, iv, f->unit, f->name, (apical_bounds){f->lo, f->hi, 0},
                               &pop->init[k])) != APICAL_OK)
                goto out;
        }
    }

    /* Solver: population > simulation > model. */
    pop->abs_tol = sim->abs_tol > 0 ? sim->abs_tol : m->default_abs_tol;
    pop->rel_tol = sim->rel_tol > 0 ? sim->rel_tol : m->default_rel_tol;
    stepper = c->sim_stepper;
    if ((v = apical_ld_get(n, "solver")) != NULL &&
        (st = apical_ld_solver(c, v, where, &stepper, &pop->abs_tol, &pop->rel_tol)) != APICAL_OK)
        goto out;
    /* "exact" for the whole simulation: wherever the model allows it */
    if (stepper && stepper == c->sim_stepper && strcmp(stepper->text, "exact") == 0 && !m->exact)
        stepper = NULL;
    /* likewise "sweep" */
    if (stepper && stepper == c->sim_stepper && strcmp(stepper->text, "sweep") == 0 && !m->sweep)
        stepper = NULL;
    if (!(pop->stepper = strdup(stepper ? stepper->text : m->default_stepper))) {
        st = apical_ld_oom(c);
        goto out;
    }
    st = apical_ld_check_jacobian(c, pop, stepper ? stepper : key);
out:
    free(pnode);
    return st;
}

apical_status apical_ld_populations(apical_ld *c, const apical_ynode *n)
{
    apical_net_spec *spec = c->spec;
    apical_status st;
    if (n->kind != APICAL_Y_MAP) {
        char b[80];
        return apical_ld_fail(c, n, APICAL_E_TYPE,
                    "populations must be a mapping from name to population, such as "
                    "'exc: {size: 100, model: lif_cond_exp}'; got %s",
                    apical_ld_describe(n, b, sizeof b));
    }
    if (n->n_kids == 0)
        return apical_ld_fail(c, n, APICAL_E_INVALID, "populations is empty; define at least one");
    size_t np = n->n_kids / 2;
    if (np > APICAL_MAX_POPULATIONS)
        return apical_ld_fail(c, n->kids[2 * APICAL_MAX_POPULATIONS], APICAL_E_RANGE,
                    "population %u ('%s') is one too many: at most %u populations (a synapse "
                    "stores its target population in 16 bits)",
                    APICAL_MAX_POPULATIONS + 1, n->kids[2 * APICAL_MAX_POPULATIONS]->text,
                    APICAL_MAX_POPULATIONS);
    if (!(spec->pops = calloc(np, sizeof *spec->pops)))
        return apical_ld_oom(c);
    if (c->errs && !(c->pop_failed = calloc(np, 1)))
        return apical_ld_oom(c);
    for (size_t i = 0; i < np; i++) {
        spec->n_pops = i + 1; /* owned by the spec from here on, even half-built */
        if ((st = parse_population(c, n->kids[2 * i], n->kids[2 * i + 1], &spec->pops[i])) !=
            APICAL_OK) {
            /* with an error list: on to the next population; references
             * to this one are skipped (apical_ld_pop_ref) */
            if (c->pop_failed)
                c->pop_failed[i] = 1;
            if ((st = apical_ld_recover(c, st)) != APICAL_OK)
                return st;
        }
    }
    return APICAL_OK;
}
