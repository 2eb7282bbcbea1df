/* A simulation: built from a network spec, advanced in windows of the
 * minimum delay, observed through callbacks.
 *
 * Everything hangs off one apical_sim handle; two simulations can live in one
 * process. */
#ifndef APICAL_SIM_H
#define APICAL_SIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"
#include "apical/spec.h"

typedef struct apical_sim apical_sim;

/* Called for every spike, in (time, global id) order, from the thread that
 * called apical_sim_run. pop is the population index, node the neuron index
 * within it. */
typedef void (*apical_spike_fn)(void *user, size_t pop, uint64_t node, double t);

/* Called for every state-recorder frame, in time order: the values of
 * recorder `rec` at time t, n_nodes * n_vars floats, node-major. */
typedef void (*apical_frame_fn)(void *user, size_t rec, double t, const float *values,
                                size_t n);

/* Called after every window with the time reached (progress reports). */
typedef void (*apical_window_fn)(void *user, double t);

typedef struct apical_sim_observer {
    apical_spike_fn on_spike;
    apical_frame_fn on_frame;
    apical_window_fn on_window;
    void *user;
} apical_sim_observer;

typedef struct apical_run_stats {
    double t;                    /* simulated time reached, ms */
    uint64_t spikes;             /* all populations */
    uint64_t *pop_spikes;        /* per population (owned by the sim) */
    uint64_t events;             /* queue events processed */
    uint64_t synaptic_events;    /* synapse activations delivered */
    uint64_t integrations;       /* neuron advances (GSL driver calls) */
    uint64_t steps;              /* accepted GSL steps */
    uint64_t windows;
    double min_delay;            /* window length, ms */
    /* bytes of this process's synapse tables (targets, weights, delay
     * groups, row index; not plastic state): the memory that grows with
     * the synapses, for the bytes-per-synapse figures */
    uint64_t synapse_bytes;
} apical_run_stats;

/* Build: connectivity, initial state, inputs. Takes no ownership of spec,
 * which must outlive the simulation. threads = 0 uses the spec's value. */
apical_status apical_sim_new(const apical_net_spec *spec, unsigned threads,
                             apical_sim **out, apical_error *err);
/* apical_sim_new with options: threads as above; stop (may be NULL): the
 * build gives up with APICAL_E_INTERRUPTED once *stop is non-zero
 * (checked per synapse while connectivity is generated, and between
 * stages). opts may be NULL. */
typedef struct apical_sim_opts {
    unsigned threads;
    const volatile sig_atomic_t *stop;
    /* NULL: one process. Else this process is one rank of comm and runs
     * its share of the partitions; every rank calls apical_sim_new_opts,
     * apical_sim_run and apical_sim_edges alike (include/apical/comm.h). */
    const struct apical_comm *comm;
} apical_sim_opts;
apical_status apical_sim_new_opts(const apical_net_spec *spec, const apical_sim_opts *opts,
                                  apical_sim **out, apical_error *err);
void apical_sim_free(apical_sim *sim);

void apical_sim_set_observer(apical_sim *sim, const apical_sim_observer *obs);
/* A controller above the engine (a protocol, include/apical/protocol.h)
 * drives the run between windows through include/apical/control.h. */

/* Advance to time `until` (ms, <= spec duration). May be called repeatedly
 * with increasing times. Returns APICAL_E_SOLVER (with population, neuron,
 * time and state in the message) if a neuron's integration fails, and
 * APICAL_E_INTERRUPTED if *stop becomes non-zero (checked every window).
 * Runs split on the window grid give the bits of one run; an `until` inside
 * a window adds an integration stop there, so spikes stay the same but
 * continuous state may differ in the last bits (check_protocol's
 * test_protocol_stops_inside_windows measured 3e-8 relative). After
 * APICAL_E_INTERRUPTED with a comm (several ranks) the interrupted window
 * has run but not completed: such a simulation can only be freed (one
 * process stops before the window and may be run on). */
apical_status apical_sim_run(apical_sim *sim, double until, const volatile int *stop,
                             apical_error *err);

const apical_run_stats *apical_sim_stats(const apical_sim *sim);

/* Current time, state access (for tests and recorders). The state of neuron i
 * of population p is n_state doubles, valid at apical_sim_neuron_time().
 * With a comm (apical_sim_opts.comm), these and apical_sim_synapses cover
 * this rank's neurons and synapses only: another rank's neuron i is not
 * held here (read it with include/apical/control.h's collective calls). */
double apical_sim_time(const apical_sim *sim);
const double *apical_sim_state(const apical_sim *sim, size_t pop, uint64_t i);
double apical_sim_neuron_time(const apical_sim *sim, size_t pop, uint64_t i);
uint64_t apical_sim_synapse_count(const apical_sim *sim);

/* The synapses a weights recorder follows, in the order of its frame
 * columns: source and target neuron indices. Returns their number. */
size_t apical_sim_weight_sample(const apical_sim *sim, size_t rec, const uint64_t **src,
                                const uint64_t **tgt);

/* Visit every synapse of projection `proj` (between windows, not during a
 * run): source and target neuron indices within their populations, current
 * weight and delay. Order: by partition, then source, then delay, then
 * generation order. Return non-zero from fn to stop (the call then returns
 * APICAL_E_NOMEM). */
typedef int (*apical_synapse_visit)(void *user, uint64_t src, uint64_t tgt, double weight,
                                    double delay);
apical_status apical_sim_synapses(const apical_sim *sim, size_t proj, apical_synapse_visit fn,
                                  void *user);

#endif
