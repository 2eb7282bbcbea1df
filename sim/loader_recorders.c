/* Network file, section `recorders:`: spikes, state and weight reports. */
#include "loader_sections.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/limits.h"

apical_status apical_ld_recorder(apical_ld *c, size_t idx, const apical_ynode *n)
{
    static const char *const spikes_keys[] = {"name", "type", "population", "nodes", NULL};
    static const char *const state_keys[] = {"name",      "type",     "population", "nodes",
                                             "variables", "interval", NULL};
    static const char *const weights_keys[] = {"name", "type", "projection", "interval", "sample",
                                               NULL};
    apical_recorder_spec *rec = &c->spec->recorders[idx];
    const apical_ynode *v, *type;
    const char *s = "";
    char where[200], fallback[32], list[700];
    apical_status st;
    apical_ld_item_where(n, "recorder", NULL, "recorders", idx, where, sizeof where);
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, where)) != APICAL_OK)
        return st;
    rec->pos = apical_ld_pos(c, n);
    if ((st = apical_ld_require(c, n, "type", where, &type)) != APICAL_OK ||
        (st = apical_ld_string(c, type, "type", &s)) != APICAL_OK)
        return st;
    if (strcmp(s, "spikes") == 0)
        rec->kind = APICAL_REC_SPIKES;
    else if (strcmp(s, "state") == 0)
        rec->kind = APICAL_REC_STATE;
    else if (strcmp(s, "weights") == 0)
        rec->kind = APICAL_REC_WEIGHTS;
    else
        return apical_ld_fail(c, type, APICAL_E_UNKNOWN_NAME,
                    "unknown recorder type '%s'; valid types: spikes, state, weights", s);
    snprintf(fallback, sizeof fallback, "%s%zu", s, idx);
    {
        char typed[64];
        snprintf(typed, sizeof typed, "%s recorder", s);
        apical_ld_item_where(n, typed, fallback, "recorders", idx, where, sizeof where);
    }
    if ((st = apical_ld_check_keys(c, n, rec->kind == APICAL_REC_SPIKES ? spikes_keys
                               : rec->kind == APICAL_REC_STATE ? state_keys : weights_keys,
                         where)) != APICAL_OK)
        return st;
    if ((st = apical_ld_item_name(c, n, fallback, "recorder", &rec->name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < idx; j++)
        if (c->spec->recorders[j].name && strcmp(c->spec->recorders[j].name, rec->name) == 0)
            return apical_ld_name_taken(c, n, "recorder", rec->name, c->spec->recorders[j].pos.line);
    if (rec->kind == APICAL_REC_WEIGHTS) {
        const char *pname = "";
        if ((st = apical_ld_require(c, n, "projection", where, &v)) != APICAL_OK ||
            (st = apical_ld_string(c, v, "projection", &pname)) != APICAL_OK)
            return st;
        rec->proj = (size_t)-1;
        int unnamed = 0; /* a projection that failed before its name was known */
        for (size_t j = 0; j < c->spec->n_projs; j++) {
            if (!c->spec->projs[j].name)
                unnamed = 1;
            else if (strcmp(c->spec->projs[j].name, pname) == 0)
                rec->proj = j;
        }
        if (rec->proj == (size_t)-1 && unnamed)
            return apical_ld_skip(c);
        if (rec->proj == (size_t)-1) {
            char names[700] = "";
            for (size_t j = 0; j < c->spec->n_projs; j++) {
                strncat(names, j ? ", " : "", sizeof names - strlen(names) - 1);
                strncat(names, c->spec->projs[j].name, sizeof names - strlen(names) - 1);
            }
            return apical_ld_fail(c, v, APICAL_E_REFERENCE, "projection '%s' is not defined; defined: %s",
                        pname, c->spec->n_projs ? names : "(none)");
        }
        rec->pop = c->spec->projs[rec->proj].target;
        if ((v = apical_ld_get(n, "sample")) != NULL &&
            (st = apical_ld_uint(c, v, "sample", 1, APICAL_MAX_RECORDER_WIDTH, &rec->sample)) != APICAL_OK)
            return st;
        if ((st = apical_ld_require(c, n, "interval", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "ms", "interval",
                              (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, APICAL_LO_CLOSED}, &rec->interval)) !=
                APICAL_OK)
            return st;
        return APICAL_OK;
    }
    if ((st = apical_ld_require(c, n, "population", where, &v)) != APICAL_OK ||
        (st = apical_ld_pop_ref(c, v, "population", &rec->pop)) != APICAL_OK)
        return st;
    const apical_pop_spec *pop = &c->spec->pops[rec->pop];
    if ((v = apical_ld_get(n, "nodes")) != NULL &&
        (st = apical_ld_nodes(c, v, pop, &rec->nodes, &rec->n_nodes)) != APICAL_OK)
        return st;
    if (rec->kind == APICAL_REC_SPIKES)
        return APICAL_OK;
    const apical_model_type *m = pop->model;
    if ((st = apical_ld_require(c, n, "variables", where, &v)) != APICAL_OK ||
        (st = apical_ld_need_kind(c, v, APICAL_Y_SEQ, "variables")) != APICAL_OK)
        return st;
    if (v->n_kids == 0)
        return apical_ld_fail(c, v, APICAL_E_INVALID, "variables is empty; name at least one of %s's "
                    "state variables", m->name);
    if (!(rec->vars = malloc(v->n_kids * sizeof *rec->vars)))
        return apical_ld_oom(c);
    for (size_t i = 0; i < v->n_kids; i++) {
        const apical_ynode *it = v->kids[i];
        if ((st = apical_ld_string(c, it, "a state variable", &s)) != APICAL_OK)
            return st;
        size_t k = apical_field_index(m->state, m->n_state, s);
        if (k == (size_t)-1) {
            apical_ld_join_fields(m->state, m->n_state, list, sizeof list);
            return apical_ld_fail(c, it, APICAL_E_UNKNOWN_NAME,
                        "model '%s' has no state variable '%s'; its state variables: %s",
                        m->name, s, list);
        }
        for (size_t j = 0; j < i; j++)
            if (rec->vars[j] == k)
                return apical_ld_fail(c, it, APICAL_E_INVALID, "state variable '%s' is listed twice", s);
        rec->vars[i] = k;
        rec->n_vars = i + 1;
    }
    if ((st = apical_ld_require(c, n, "interval", where, &v)) != APICAL_OK ||
        (st = apical_ld_bounded(c, v, "ms", "interval", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, APICAL_LO_CLOSED},
                          &rec->interval)) != APICAL_OK)
        return st;
    uint64_t n_list = rec->nodes ? rec->n_nodes : pop->size;
    if ((double)n_list * (double)rec->n_vars > (double)APICAL_MAX_RECORDER_WIDTH)
        return apical_ld_fail(c, apical_ld_get(n, "variables"), APICAL_E_RANGE,
                    "recorder '%s' records %.0f values per frame (%llu neurons x %zu variables); "
                    "at most %llu: record fewer nodes",
                    rec->name, (double)n_list * (double)rec->n_vars, (unsigned long long)n_list,
                    rec->n_vars, APICAL_MAX_RECORDER_WIDTH);
    return APICAL_OK;
}
