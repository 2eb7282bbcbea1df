/* Network file, section `inputs:`: Poisson and spike-time sources, current
 * devices. */
#include "loader_sections.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/limits.h"
#include "apical/units.h"

/* A list of quantities, e.g. `times: [10 ms, 20 ms]`. Times must be sorted
 * ascending when `sorted`. */
static apical_status get_quantity_list(apical_ld *c, const apical_ynode *v, const char *unit, const char *what,
                                       const char *elem, apical_bounds bd, int sorted, double **out,
                                       size_t *n_out)
{
    apical_status st;
    if ((st = apical_ld_need_kind(c, v, APICAL_Y_SEQ, what)) != APICAL_OK)
        return st;
    if (v->n_kids && !(*out = malloc(v->n_kids * sizeof **out)))
        return apical_ld_oom(c);
    for (size_t i = 0; i < v->n_kids; i++) {
        const apical_ynode *t = v->kids[i];
        if ((st = apical_ld_bounded(c, t, unit, elem, bd, &(*out)[i])) != APICAL_OK)
            return st;
        *n_out = i + 1;
        if (sorted && i > 0 && (*out)[i] < (*out)[i - 1])
            return apical_ld_fail(c, t, APICAL_E_RANGE,
                        "%s must be sorted ascending, but %g %s comes after %g %s", what,
                        (*out)[i], unit, (*out)[i - 1], unit);
    }
    return APICAL_OK;
}

/* `start` and `stop` of an input; stop defaults to the end of the run. */
static apical_status get_start_stop(apical_ld *c, const apical_ynode *n, apical_input_spec *in)
{
    const apical_bounds nonneg = {0.0, HUGE_VAL, 0};
    const apical_ynode *v;
    apical_status st;
    if ((v = apical_ld_get(n, "start")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "start", nonneg, &in->start)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "stop")) != NULL) {
        if ((st = apical_ld_quantity(c, v, "ms", "stop", &in->stop)) != APICAL_OK)
            return st;
        if (!(in->stop > in->start))
            return apical_ld_fail(c, v, APICAL_E_RANGE, "stop (%g ms) must be after start (%g ms)",
                        in->stop, in->start);
    }
    return APICAL_OK;
}

static const struct input_type {
    const char *name;
    apical_input_kind kind;
    const char *const *keys; /* besides name, type, target, nodes */
} input_types[] = {
    {"poisson", APICAL_INPUT_POISSON,
     (const char *const[]){"receptor", "weight", "rate", "start", "stop", NULL}},
    {"spike_times", APICAL_INPUT_SPIKE_TIMES,
     (const char *const[]){"receptor", "weight", "times", NULL}},
    {"inhomogeneous_poisson", APICAL_INPUT_INHOM_POISSON,
     (const char *const[]){"receptor", "weight", "times", "rates", "stop", NULL}},
    {"dc", APICAL_INPUT_DC, (const char *const[]){"amplitude", "start", "stop", NULL}},
    {"step_current", APICAL_INPUT_STEP_CURRENT,
     (const char *const[]){"times", "amplitudes", NULL}},
    {"sinusoidal_current", APICAL_INPUT_SINUSOIDAL,
     (const char *const[]){"amplitude", "frequency", "phase", "offset", "start", "stop", NULL}},
    {"ou_current", APICAL_INPUT_OU_CURRENT,
     (const char *const[]){"mean", "sd", "tau", "dt", "start", "stop", NULL}},
};

apical_status apical_ld_input(apical_ld *c, size_t idx, const apical_ynode *n)
{
    apical_input_spec *in = &c->spec->inputs[idx];
    const apical_ynode *v, *type;
    const char *s = "";
    char where[200], fallback[32];
    apical_status st;
    const apical_bounds nonneg = {0.0, HUGE_VAL, 0}, positive = {0.0, HUGE_VAL, 1};
    const apical_bounds any = {-HUGE_VAL, HUGE_VAL, 0};
    const apical_bounds rate = {0.0, APICAL_MAX_RATE, 0}, step = {APICAL_MIN_TIME, APICAL_MAX_TIME, 0};
    snprintf(fallback, sizeof fallback, "input%zu", idx);
    apical_ld_item_where(n, "input", fallback, "inputs", idx, where, sizeof where);
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, where)) != APICAL_OK)
        return st;
    in->pos = apical_ld_pos(c, n);
    in->stop = HUGE_VAL;
    if ((st = apical_ld_require(c, n, "type", where, &type)) != APICAL_OK ||
        (st = apical_ld_string(c, type, "type", &s)) != APICAL_OK)
        return st;
    const struct input_type *it = NULL;
    for (size_t k = 0; k < sizeof input_types / sizeof input_types[0]; k++)
        if (strcmp(s, input_types[k].name) == 0)
            it = &input_types[k];
    if (!it) {
        char names[256] = "";
        for (size_t k = 0; k < sizeof input_types / sizeof input_types[0]; k++) {
            strncat(names, k ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, input_types[k].name, sizeof names - strlen(names) - 1);
        }
        return apical_ld_fail(c, type, APICAL_E_UNKNOWN_NAME, "unknown input type '%s'; valid types: %s",
                    s, names);
    }
    in->kind = it->kind;
    const char *keys[16] = {"name", "type", "target", "nodes"};
    size_t nk = 4;
    for (const char *const *k = it->keys; *k && nk < 15; k++)
        keys[nk++] = *k;
    keys[nk] = NULL;
    {
        char typed[64];
        snprintf(typed, sizeof typed, "%s input", s);
        apical_ld_item_where(n, typed, fallback, "inputs", idx, where, sizeof where);
    }
    if ((st = apical_ld_check_keys(c, n, keys, where)) != APICAL_OK)
        return st;
    if ((st = apical_ld_item_name(c, n, fallback, "input", &in->name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < idx; j++)
        if (c->spec->inputs[j].name && strcmp(c->spec->inputs[j].name, in->name) == 0)
            return apical_ld_name_taken(c, n, "input", in->name, c->spec->inputs[j].pos.line);
    if ((st = apical_ld_require(c, n, "target", where, &v)) != APICAL_OK ||
        (st = apical_ld_pop_ref(c, v, "target", &in->target)) != APICAL_OK)
        return st;
    const apical_pop_spec *tgt = &c->spec->pops[in->target];
    if (apical_input_is_current(in->kind) &&
        (strcmp(tgt->stepper, "exact") == 0 || strcmp(tgt->stepper, "sweep") == 0))
        return apical_ld_fail(c, apical_ld_get(n, "target"), APICAL_E_INVALID,
                    "population '%s' uses stepper '%s', which integrates synaptic inputs "
                    "only; a current device needs a GSL stepper such as rkf45",
                    tgt->name, tgt->stepper);
    if ((v = apical_ld_get(n, "nodes")) != NULL &&
        (st = apical_ld_nodes(c, v, tgt, &in->nodes, &in->n_nodes)) != APICAL_OK)
        return st;
    if (!apical_input_is_current(in->kind)) {
        if ((st = apical_ld_require(c, n, "receptor", where, &v)) != APICAL_OK ||
            (st = apical_ld_receptor(c, v, tgt->model, &in->receptor)) != APICAL_OK)
            return st;
        if ((st = apical_ld_require(c, n, "weight", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, tgt->model->weight_unit, "weight", apical_ld_weight_bounds(tgt->model),
                              &in->weight)) != APICAL_OK)
            return st;
    }
    switch (in->kind) {
    case APICAL_INPUT_POISSON:
        if ((st = apical_ld_require(c, n, "rate", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "Hz", "rate", rate, &in->rate)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    case APICAL_INPUT_SPIKE_TIMES:
        if ((st = apical_ld_require(c, n, "times", where, &v)) != APICAL_OK)
            return st;
        return get_quantity_list(c, v, "ms", "spike times", "a spike time", nonneg, 1, &in->times,
                                 &in->n_times);
    case APICAL_INPUT_INHOM_POISSON:
    case APICAL_INPUT_STEP_CURRENT: {
        const int rates = in->kind == APICAL_INPUT_INHOM_POISSON;
        const char *vkey = rates ? "rates" : "amplitudes";
        const apical_ynode *vv;
        size_t nv = 0;
        if ((st = apical_ld_require(c, n, "times", where, &v)) != APICAL_OK ||
            (st = apical_ld_require(c, n, vkey, where, &vv)) != APICAL_OK ||
            (st = get_quantity_list(c, v, "ms", "times", "a time", nonneg, 1, &in->times,
                                    &in->n_times)) != APICAL_OK ||
            (st = get_quantity_list(c, vv, rates ? "Hz" : "pA", vkey, rates ? "a rate" : "an amplitude",
                                    rates ? rate : any, 0, &in->values, &nv)) != APICAL_OK)
            return st;
        if (nv != in->n_times || nv == 0)
            return apical_ld_fail(c, vv, APICAL_E_RANGE, "%s needs one value per entry of times (%zu), got %zu",
                        vkey, in->n_times, nv);
        if (rates && (v = apical_ld_get(n, "stop")) != NULL &&
            (st = apical_ld_bounded(c, v, "ms", "stop", positive, &in->stop)) != APICAL_OK)
            return st;
        return APICAL_OK;
    }
    case APICAL_INPUT_DC:
        if ((st = apical_ld_require(c, n, "amplitude", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "pA", "amplitude", any, &in->amplitude)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    case APICAL_INPUT_SINUSOIDAL:
        if ((st = apical_ld_require(c, n, "amplitude", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "pA", "amplitude", any, &in->amplitude)) != APICAL_OK ||
            (st = apical_ld_require(c, n, "frequency", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "Hz", "frequency", rate, &in->frequency)) != APICAL_OK)
            return st;
        if ((v = apical_ld_get(n, "phase")) != NULL) {
            double deg;
            if ((st = apical_ld_bounded(c, v, "1", "phase (degrees)", any, &deg)) != APICAL_OK)
                return st;
            in->phase = deg * M_PI / 180.0;
        }
        if ((v = apical_ld_get(n, "offset")) != NULL &&
            (st = apical_ld_bounded(c, v, "pA", "offset", any, &in->offset)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    case APICAL_INPUT_OU_CURRENT:
        if ((st = apical_ld_require(c, n, "mean", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "pA", "mean", any, &in->mean)) != APICAL_OK ||
            (st = apical_ld_require(c, n, "sd", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "pA", "sd", nonneg, &in->sd)) != APICAL_OK ||
            (st = apical_ld_require(c, n, "tau", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "ms", "tau", positive, &in->tau)) != APICAL_OK ||
            (st = apical_ld_require(c, n, "dt", where, &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "ms", "dt", step, &in->dt)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    }
    return APICAL_OK;
}
