/* The spike sink: where a spike leaves the neuron that fired it, whichever
 * stepper integrated it (the engine's GSL path, sim/exact.c, sim/sweep.c).
 * The spike is stored in the partition's output of the window (merged and
 * queued for delivery between windows) and archived for every plastic
 * projection onto the neuron. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spike_sink.h"

apical_status apical_emit_spike(partition *P, double t, uint64_t gid, int32_t mult)
{
    if (P->n_out == P->cap_out) {
        size_t cap = P->cap_out ? 2 * P->cap_out : 1024;
        spike_rec *o = realloc(P->out, cap * sizeof *o);
        if (!o)
            return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL,
                                            "out of memory storing spikes");
        P->out = o;
        P->cap_out = cap;
    }
    P->out[P->n_out++] = (spike_rec){t, gid, mult};
    return APICAL_OK;
}

/* The latest time at or before which archive entries of neuron i (index k
 * in the projection's partition) can be dropped when it fires at t, keeping
 * the last one: the minimum of its incoming synapses' read points. A
 * synapse that has not fired yet reads at its first spike, delivered at
 * T >= t, only the trace base strictly before (T - d) - d >= (t - dmax) -
 * dmax (floating-point subtraction is monotonic, so this holds bit for bit). */
static double archive_horizon(const plastic_proj *pl, uint64_t k, double t)
{
    double r = HUGE_VAL;
    int unfired = 0;
    for (uint32_t j = pl->in_off[k]; j < pl->in_off[k + 1]; j++) {
        const double rs = pl->pre[(size_t)pl->in_syn[j] * pl->stride + PRE_READ];
        unfired |= rs == -HUGE_VAL;
        r = rs > -HUGE_VAL && rs < r ? rs : r;
    }
    if (unfired) {
        const double dmax = pl->arch[k].dmax;
        r = fmin(r, nextafter((t - dmax) - dmax, -HUGE_VAL));
    }
    return r;
}

/* Record a spike of neuron i of population pi for every plastic projection
 * onto it, with the rule's post traces just after it. When the archive has
 * doubled since it was last looked at, drop the entries no synapse can read
 * any more (see post_archive): exact for any silence, and at most twice as
 * many entries as some synapse still needs (or APICAL_ARCHIVE_MIN_SCAN). */
apical_status apical_archive_spike(partition *P, size_t pi, uint64_t i, double t)
{
    for (size_t k = 0; k < P->n_plastic_of_pop[pi]; k++) {
        plastic_proj *pl = &P->plastic[P->plastic_of_pop[pi][k]];
        post_archive *a = &pl->arch[i - pl->lo];
        const size_t E = pl->estride;
        if (a->n >= a->scan_at) {
            const double r = archive_horizon(pl, i - pl->lo, t);
            while (a->n > 1 && a->e[(size_t)(a->start + 1) * E] <= r) {
                a->start++;
                a->n--;
            }
            a->scan_at = a->n > APICAL_ARCHIVE_MIN_SCAN / 2 ? 2 * a->n : APICAL_ARCHIVE_MIN_SCAN;
        }
        if (a->start + a->n == a->cap) {
            if (a->start > a->cap / 2) {
                memmove(a->e, a->e + (size_t)a->start * E, (size_t)a->n * E * sizeof *a->e);
                a->start = 0;
            } else {
                uint32_t cap = a->cap ? 2 * a->cap : 8;
                double *e = realloc(a->e, (size_t)cap * E * sizeof *e);
                if (!e)
                    return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL,
                                                    "out of memory archiving spikes");
                a->e = e;
                a->cap = cap;
            }
        }
        double *ent = a->e + (size_t)(a->start + a->n) * E;
        const double *prev = a->n ? ent - E : NULL;
        ent[0] = t;
        pl->rule->post_spike(pl->param, pl->derived, t, prev ? prev[0] : 0.0,
                             prev ? prev + 1 : NULL, ent + 1);
        a->n++;
    }
    return APICAL_OK;
}

apical_status apical_engine_emit(apical_sim *S, partition *P, size_t pi, uint64_t i, double t)
{
    return apical_emit_spike(P, t, S->pops[pi].gid0 + i, 1) || apical_archive_spike(P, pi, i, t)
               ? P->st
               : APICAL_OK;
}
