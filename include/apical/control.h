/* The engine's controller interface: what code above the engine (a learning
 * protocol, a closed-loop experiment) may do to a running simulation.
 *
 * A controller registers hooks (apical_engine_set_hooks); apical_sim_run
 * calls them in the calling thread, knowing them only as function pointers.
 * Between windows every partition has reached the same time T = k * window
 * (k = apical_engine_window_index), and only then may a controller read or
 * change the simulation with the calls below: it times what it does on the
 * window grid (apical_engine_window), since the run stops nowhere else.
 *
 * Population, projection and input indices are those of the spec the
 * simulation was built from; neuron indices are within their population. */
#ifndef APICAL_CONTROL_H
#define APICAL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"
#include "apical/sim.h"

/* A spike of the whole network: global id = first id of its population
 * (apical_engine_gid0) + neuron index. */
typedef struct apical_spike {
    double t;
    uint64_t gid;
    /* Multiplicity: every synapse delivers weight x mult. 1 for ordinary
     * spikes; a model with spike_multiplicity (model.h) sets it, e.g. a
     * binary unit's change of state (models/hopfield.c). */
    int32_t mult;
} apical_spike;

typedef struct apical_engine_hooks {
    /* After every window: that window's spikes of all partitions, merged in
     * (time, global id) order, before the observer sees them. Must not
     * change the simulation. NULL: none. */
    void (*spikes)(void *user, const apical_spike *sp, size_t n);
    /* Between windows: once before the first window and after every whole
     * window, at T = apical_engine_window_index * apical_engine_window. May
     * call everything below and may allocate. A status other than
     * APICAL_OK stops the run with that error. NULL: none. */
    apical_status (*between)(void *user, apical_sim *sim, apical_error *err);
    /* During every window, beside the partitions' work: called once in each
     * of this process's partition jobs (at the start of each window, not
     * again when a run resumes inside one), from whichever thread runs the
     * job, with the job's index and the number of jobs. What `between`
     * leaves to the slices (work not needed before the next `between`) is
     * then done in parallel instead of between windows, where every other
     * thread waits. The slices run at the same time: each must touch only
     * its own memory and must not call the engine. NULL: none. */
    void (*during)(void *user, unsigned slice, unsigned n_slices);
    void *user;
} apical_engine_hooks;

/* Replace the controller's hooks (one controller per simulation). */
void apical_engine_set_hooks(apical_sim *sim, const apical_engine_hooks *hooks);

/* The window grid: windows of this length (ms, the minimum delay); the
 * next window to run has this index (the time reached is index * window). */
double apical_engine_window(const apical_sim *sim);
uint64_t apical_engine_window_index(const apical_sim *sim);

/* First global id of population pi (spikes carry global ids). */
uint64_t apical_engine_gid0(const apical_sim *sim, size_t pi);

/* At build, before the first run: keep population pi's time integral of the
 * hazard (state int_hazard / int_lambda) up to date, though no recorder
 * reads it (populations with stepper "exact" skip it otherwise). */
void apical_engine_track_integral(apical_sim *sim, size_t pi);

/* Between windows: integrate every neuron of population pi to T (a window
 * end), so its state can be read or changed at T. */
apical_status apical_engine_sync(apical_sim *sim, size_t pi, double T, apical_error *err);

/* State variable k of neuron i of population pi, after apical_engine_sync;
 * time integrals (int_*) read at two boundaries give window means. */
double apical_engine_state(const apical_sim *sim, size_t pi, uint64_t i, size_t k);
/* Ranks (include/apical/comm.h): apical_engine_state, apical_engine_state_all
 * and apical_engine_combine are collective, every rank calls them in the
 * same order and gets the owner's values; everything else acts on this
 * rank's partitions only. A controller that computes the same thing on
 * every rank from these reads stays identical to a one-process run. */
int apical_engine_ranks(const apical_sim *sim);
/* v[0, n): each rank has written only entries it owns (say the weights of
 * its synapses) and left the rest zero; afterwards every rank holds every
 * rank's entries, bit for bit. One process: nothing to do. */
void apical_engine_combine(const apical_sim *sim, double *v, size_t n);

/* Between windows, after apical_engine_sync: set state variable k of
 * neuron i (a constant drive, a teaching conductance, a bias) and let the
 * engine know the state changed. */
void apical_engine_poke(apical_sim *sim, size_t pi, uint64_t i, size_t k, double value);

/* Whole populations at once (a learning rule reads and sets 500 neurons per
 * phase): apical_engine_state of every neuron i of population pi into
 * out[i], and apical_engine_poke of v[i] into every neuron i. The same
 * values as the per-neuron calls, without a call per neuron. */
void apical_engine_state_all(const apical_sim *sim, size_t pi, size_t k, double *out);
void apical_engine_poke_all(apical_sim *sim, size_t pi, size_t k, const double *v);

/* Between windows: give node `node` of Poisson input j the rate `hz` from
 * time T on (memorylessness makes redrawing the next event exact). */
apical_status apical_engine_set_rate(apical_sim *sim, size_t j, uint64_t node, double hz,
                                     double T, apical_error *err);

/* Between windows: visit every synapse of projection j with a pointer to
 * its weight (source and target neuron indices), in the calling thread.
 * This and apical_engine_rank1_update are for networks with a protocol:
 * only there does every synapse keep a weight of its own (elsewhere a
 * static projection with one constant weight stores it once, sim/build.c's
 * shares_weight). */
typedef void (*apical_weight_visit)(void *user, uint64_t src, uint64_t tgt, double *w);
void apical_engine_each_weight(apical_sim *sim, size_t j, apical_weight_visit fn, void *user);

/* Between windows: w <- keep w + u[src] v[tgt] for every synapse of
 * projection j, each partition's synapses on its worker thread. */
void apical_engine_rank1_update(apical_sim *sim, size_t j, double keep, const double *u,
                                const double *v);

/* Between windows: start the dynamics over at window `window` (at or after
 * the current one; a later one jumps there, T = window * window length),
 * as if the simulation had been built at T, so that a run that restarts
 * from a checkpoint taken at T continues bit for bit like one that ran up
 * to T and restarted there with the same key. Every neuron's time becomes
 * T and its private stream (and every input generator's) continues from a
 * place fixed by `key` alone; spikes in flight are dropped; inputs return
 * to their rates as built (apical_engine_set_rate's are forgotten) and
 * Poisson inputs draw their next event after T. Neuron states are
 * left as they are: the controller sets them (apical_engine_poke_all).
 * Refused for sweep populations, plastic projections, and recorder or
 * device events a jump would skip. */
apical_status apical_engine_restart(apical_sim *sim, uint64_t window, uint32_t key,
                                    apical_error *err);

/* Before a run, for a controller that will call apical_engine_restart on a
 * simulation built from spec: refuse what it would refuse there, at its
 * position in the file, so that a long run does not fail at its first
 * restart. The first population with stepper "sweep" (its wake-up calendar
 * is not rebuilt) or projection with a plasticity rule (its spike archives
 * are not) gives the error; `when` says when the controller restarts
 * ("at the end of ..."), `instead` what else avoids the restart
 * ("fewer examples"). */
apical_status apical_engine_check_restartable(const apical_net_spec *spec, const char *when,
                                              const char *instead, apical_error *err);

#endif
