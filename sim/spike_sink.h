/* The spike sink (sim/spike_sink.c): a neuron's spike, from any stepper,
 * stored for the window's merge and archived for plasticity. */
#ifndef APICAL_SPIKE_SINK_H
#define APICAL_SPIKE_SINK_H

#include "sim_state.h"

/* Store a spike (global id gid, multiplicity mult) in the partition's output
 * of the window. */
apical_status apical_emit_spike(partition *P, double t, uint64_t gid, int32_t mult);
/* Archive it for every plastic projection onto neuron i of population pi. */
apical_status apical_archive_spike(partition *P, size_t pi, uint64_t i, double t);
/* A spike of neuron i of population pi at t: queued for delivery and
 * archived for plasticity. */
apical_status apical_engine_emit(apical_sim *S, partition *P, size_t pi, uint64_t i, double t);

#endif
