/* Connectivity generation: which (source, target) pairs a projection makes,
 * and their weights and delays.
 *
 * Pairs are generated per target neuron (column) for every rule but
 * fixed_outdegree, which goes per source (row). The random numbers of a
 * column come from a substream keyed by the target id, so a partition that
 * owns targets [tgt_lo, tgt_hi) generates exactly the synapses it would see in
 * a single-partition run, without generating the others. from_file emits
 * the loaded edges of each target column in file order.
 *
 * Cost: O(synapses generated) per column (fixed_indegree: O(k) per
 * target, by Floyd's sampling with a hash set); fixed_outdegree generates
 * every row, O(n_src k) per call whatever range is kept. */
#ifndef APICAL_CONNECT_H
#define APICAL_CONNECT_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "apical/error.h"
#include "apical/spec.h"

/* Called once per synapse, in a fixed order. Return 0 to go on, non-zero to
 * stop (the status is then APICAL_E_NOMEM). */
typedef int (*apical_synapse_fn)(void *user, uint64_t src, uint64_t tgt,
                                 double weight, double delay);

apical_status apical_connect(const apical_proj_spec *proj, uint64_t n_src,
                             uint64_t n_tgt, uint64_t seed, uint64_t tgt_lo,
                             uint64_t tgt_hi, apical_synapse_fn fn, void *user,
                             apical_error *err);

/* Called once per pair by apical_connect_pairs; the same contract. */
typedef int (*apical_pair_fn)(void *user, uint64_t src, uint64_t tgt);

/* The pairs apical_connect generates, in the same order, without drawing
 * weights and delays: a counting pass costs only the connectivity draws. */
apical_status apical_connect_pairs(const apical_proj_spec *proj, uint64_t n_src,
                                   uint64_t n_tgt, uint64_t seed, uint64_t tgt_lo,
                                   uint64_t tgt_hi, apical_pair_fn fn, void *user,
                                   apical_error *err);

/* xi_i^k (+1 or -1) of the patterns a `hebbian: {patterns: P}` projection
 * draws from the seed: bit 0 of the i-th 32-bit draw of substream k of its
 * pattern stream (apical_rng_stream_id(APICAL_RNG_PATTERN, name)). Random
 * access, so a cue (an initial state) and the weights read the same bits. */
double apical_pattern_value(uint64_t seed, uint32_t stream, uint32_t k, uint64_t i);

/* One draw from a distribution. Normal draws outside [lo, hi] are redrawn. */
double apical_dist_sample(const apical_dist *d, gsl_rng *r);

#endif
