/* Synaptic plasticity rules as const vtables, listed once in
 * models/plasticity_registry.c, like neuron models.
 *
 * Semantics are NEST's stdp_synapse family: the whole synaptic delay d is
 * dendritic. A presynaptic spike emitted at t_pre reaches the synapse at
 * t_pre; a postsynaptic spike at t_post reaches it at t_post + d. The engine
 * applies a rule lazily, when the presynaptic spike is delivered to the
 * target (t_pre + d), which is when every postsynaptic spike the rule needs
 * (those with t_post <= t_pre - d) is known:
 *   1. facilitation for each post spike in (t_last_pre - d, t_pre - d],
 *   2. depression with the post traces at t_pre - d,
 *   3. the presynaptic traces take the new spike,
 * and the spike is delivered with the updated weight.
 *
 * Post traces live in a per-neuron archive of (spike time, trace values just
 * after the spike). The engine drops an entry only once no incoming synapse
 * can read it any more (every synapse's read point t_last - d is past the
 * next entry), as NEST's ArchivingNode does with access counters: nothing is
 * neglected, however long a synapse stays silent (docs/plasticity.md). */
#ifndef APICAL_PLASTICITY_H
#define APICAL_PLASTICITY_H

#include <math.h>
#include <stddef.h>

#include "apical/fastexp.h"
#include "apical/model.h"

/* One archived postsynaptic spike: its time and the post trace values just
 * after it. */
typedef struct apical_post_spike {
    double t;
    const double *trace;
} apical_post_spike;

/* One synapse's presynaptic spike in a batch (pre_spike_n): pre_spike's
 * t_last, w and pre; post points to the archive row of hist[0], rows
 * [0, first) the trace base (at most one), [first, n) the window. */
typedef struct apical_pre_event {
    double t_last;
    double *w;
    double *pre;
    const double *post;
    unsigned first, n;
} apical_pre_event;

typedef struct apical_plasticity_type {
    const char *name;
    const char *doc;
    size_t n_params;
    const apical_field *params; /* weight-valued fields use unit "w" (the
                                   projection's weight unit) */
    size_t n_pre;   /* presynaptic trace values per synapse */
    size_t n_post;  /* postsynaptic trace values per archived spike */
    size_t n_derived;
    void (*derive)(const double *param, double *derived);
    /* Relations between parameters (e.g. W_min < W_max); 0 if fine, else
     * the offending parameter index + 1 with a reason. May be NULL. */
    size_t (*check)(const double *param, char *why, size_t why_len);
    /* Post trace values just after a post spike at t, from the values just
     * after the previous one at t_prev (prev == NULL: none). Never NULL. */
    void (*post_spike)(const double *param, const double *derived, double t, double t_prev,
                       const double *prev, double *out);
    /* A presynaptic spike at t_pre through a synapse of delay d. pre holds
     * the synapse's presynaptic traces as left at its previous spike t_last
     * (all zero and t_last = -inf before the first). hist[0..n) are archived
     * post spikes in time order: hist[0..first) at most one, the base for
     * traces (the latest at or before t_last - d; at the first presynaptic
     * spike the latest strictly before t_pre - d), hist[first..n) in
     * (t_last - d, t_pre - d] (none at the first presynaptic spike). Update
     * *w (clip it to the rule's bounds) and pre. Never NULL; no allocation. */
    void (*pre_spike)(const double *param, const double *derived, double t_pre, double t_last,
                      double d, double *w, double *pre, const apical_post_spike *hist,
                      size_t first, size_t n);
    /* Optional (NULL: the engine calls pre_spike per synapse): a presynaptic
     * spike at t_pre through m synapses of one delay d (a delay group),
     * ev[j] holding synapse j's pre_spike arguments, its archived post spikes
     * as rows of post_stride doubles (t, then the n_post traces) instead of
     * hist. It must give every synapse the same results as pre_spike, bit
     * for bit (the engine uses either, per group), and its synapses are
     * independent: no two ev share w or pre. No allocation. */
    void (*pre_spike_n)(const double *param, const double *derived, double t_pre, double d,
                        const struct apical_pre_event *ev, size_t m, size_t post_stride);
} apical_plasticity_type;

/* Post trace k at time t: from the latest archived spike strictly before t
 * (NEST's get_K_value: a spike at exactly t does not count yet), decayed
 * with tau; 0 if there is none. */
static inline double apical_post_trace_at(const apical_post_spike *hist, size_t n, double t,
                                          size_t k, double tau)
{
    for (size_t j = n; j-- > 0;)
        if (hist[j].t < t)
            return hist[j].trace[k] * apical_fexp((hist[j].t - t) / tau);
    return 0.0;
}

size_t apical_plasticity_count(void);
const apical_plasticity_type *apical_plasticity_at(size_t i);
const apical_plasticity_type *apical_plasticity_find(const char *name);
void apical_plasticity_names(char *buf, size_t n);

#endif
