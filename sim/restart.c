/* apical_engine_restart (include/apical/control.h): the engine's dynamics
 * start over at a window boundary, as if the simulation had been built
 * there, so that a run resumed from a checkpoint taken at that boundary
 * continues bit for bit like the uninterrupted run (which restarts there
 * too). Not a hot path: once per epoch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_state.h"

/* Streams restarted with key k continue from block k << 40 of their
 * substream: 2^40 blocks (4.4e12 draws) per key before two keys' numbers
 * could overlap, far beyond one epoch's draws per neuron. */
static uint64_t restart_block(uint32_t key)
{
    return (uint64_t)key << 40;
}

/* Drop the queue's deliveries and Poisson events (redrawn afterwards);
 * keep the rest (recorder ticks, devices), which must not be before T. */
static apical_status keep_events(partition *P, double T, apical_error *err)
{
    const size_t n = apical_queue_size(&P->q);
    apical_event *ev = malloc((n + 1) * sizeof *ev);
    if (!ev)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    size_t kept = 0;
    apical_event e;
    while (!apical_queue_pop(&P->q, &e))
        if (e.kind != EV_DELIVER && e.kind != EV_POISSON)
            ev[kept++] = e;
    apical_status st = APICAL_OK;
    for (size_t k = 0; k < kept && !st; k++) {
        if (ev[k].t < T)
            st = apical_error_set(err, APICAL_E_INVALID, NULL,
                                  "a restart at %g ms would skip a recorder or device event at "
                                  "%g ms (a jump ahead cannot record state or weights, nor "
                                  "drive devices, before its start)",
                                  T, ev[k].t);
        else if (apical_queue_push(&P->q, ev[k].t, ev[k].kind, ev[k].a, ev[k].b))
            st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    free(ev);
    return st;
}

/* Every generator of every input on its restarted stream, at its rate as
 * built (a controller's rates are forgotten: a run resumed at T never saw
 * them), Poisson inputs with their next event after T: one draw each,
 * whatever the rate, as at the start of a run. */
static apical_status restart_inputs(apical_sim *S, partition *P, double T, uint32_t key,
                                    apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    for (size_t j = 0; j < spec->n_inputs; j++) {
        const apical_input_spec *in = &spec->inputs[j];
        input_rt *ir = &P->inputs[j];
        free(ir->rate), free(ir->epoch);
        ir->rate = NULL, ir->epoch = NULL; /* allocated again by the next set_rate */
        for (size_t c = 0; c < ir->n; c++) {
            apical_rng_seek(&ir->rng[c], restart_block(key));
            if (in->kind != APICAL_INPUT_POISSON && in->kind != APICAL_INPUT_INHOM_POISSON)
                continue;
            const double t = apical_next_poisson(
                in, in->kind == APICAL_INPUT_POISSON ? fmax(T, in->start) : T, spec->sim.duration,
                &ir->rng[c]);
            if (t < fmin(in->stop, spec->sim.duration) &&
                apical_queue_push(&P->q, t, EV_POISSON, (uint32_t)j, c))
                return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        }
    }
    return APICAL_OK;
}

apical_status apical_engine_check_restartable(const apical_net_spec *spec, const char *when,
                                              const char *instead, apical_error *err)
{
    for (size_t i = 0; i < spec->n_pops; i++)
        if (spec->pops[i].stepper && strcmp(spec->pops[i].stepper, "sweep") == 0)
            return apical_error_set(err, APICAL_E_INVALID, &spec->pops[i].pos,
                                    "population '%s' uses stepper 'sweep', which cannot "
                                    "restart %s; use 'exact' or a GSL stepper, or %s",
                                    spec->pops[i].name, when, instead);
    for (size_t j = 0; j < spec->n_projs; j++)
        if (spec->projs[j].rule)
            return apical_error_set(err, APICAL_E_INVALID, &spec->projs[j].rule_pos,
                                    "projection '%s' has a plasticity rule, whose spike "
                                    "archives cannot restart %s; use %s",
                                    spec->projs[j].name, when, instead);
    return APICAL_OK;
}

apical_status apical_engine_restart(apical_sim *S, uint64_t window, uint32_t key,
                                    apical_error *err)
{
    if (window < S->window)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "restart at window %llu: the run is already at window %llu",
                                (unsigned long long)window, (unsigned long long)S->window);
    if (S->has_sweep)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "restart: populations with stepper 'sweep' cannot restart "
                                "(their wake-up calendars are not rebuilt); use 'exact' or a "
                                "GSL stepper");
    for (unsigned p = S->p0; p < S->p1; p++)
        if (S->parts[p].n_plastic)
            return apical_error_set(err, APICAL_E_INVALID, NULL,
                                    "restart: plastic projections (their spike archives) "
                                    "cannot restart");
    const double T = (double)window * S->min_delay;
    for (unsigned p = S->p0; p < S->p1; p++) {
        partition *P = &S->parts[p];
        apical_status st = keep_events(P, T, err);
        if (st)
            return st;
        for (size_t f = 0; f < P->n_fifo; f++)
            P->fifo[f].head = P->fifo[f].n = 0;
        for (size_t pi = 0; pi < S->n_pops; pi++) {
            pop_rt *pr = &S->pops[pi];
            pop_part *pp = &P->pp[pi];
            for (uint64_t i = pp->lo; i < pp->hi; i++) {
                pr->t_last[i] = T;
                pr->h[i] = 0.01; /* as built */
                pr->ref_until[i] = -HUGE_VAL;
                pr->wake[i] = T;
                if (pr->rng)
                    apical_rng_seek(&pr->rng[i], restart_block(key));
            }
            pp->wake_min = T;
            if (pr->exact && pp->hi > pp->lo)
                apical_exact_restart(S, P, pi, T);
        }
        if ((st = restart_inputs(S, P, T, key, err)))
            return st;
    }
    S->n_pending = 0; /* the last window's spikes: in flight, dropped */
    S->exact_epoch++;
    S->exact_dirty = 1;
    S->t = T;
    S->window = window;
    return APICAL_OK;
}
