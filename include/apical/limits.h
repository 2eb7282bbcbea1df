/* What a network may ask for, in one place.
 *
 * Every limit here is checked when the network file is loaded
 * (sim/loader.c), with the position of the offending value, and stated in
 * docs/network-format.md ("Limits"). Each one comes from how the engine
 * stores or processes something; the comment says what.
 *
 * The memory estimate (apical_spec_memory) is the other half: a network can
 * be within every limit and still not fit in this machine's memory. `apical
 * check` and `apical run` compare the estimate with the memory available
 * before anything is allocated, and refuse at the population or projection
 * that costs the most. */
#ifndef APICAL_LIMITS_H
#define APICAL_LIMITS_H

#include <stdint.h>

#include "apical/error.h"

struct apical_net_spec;
struct apical_proj_spec;

/* Neurons of one population: neuron indices in synapses, recorder columns
 * and the per-neuron random streams (rng substream ids) are 32-bit. */
#define APICAL_MAX_POP_SIZE 4294967295ull

/* Populations: a synapse stores its target population in 16 bits. */
#define APICAL_MAX_POPULATIONS 65536u

/* Items of any list (projections, inputs, recorders): 32-bit ids in events
 * and synapse groups. */
#define APICAL_MAX_LIST_ITEMS 4294967295ull

/* Synapses in one partition: CSR offsets and delay groups are 32-bit. More
 * partitions split the synapses (by target neuron). */
#define APICAL_MAX_SYN_PER_PARTITION 4294967295ull

/* Values per frame of a state recorder (neurons x variables), synapses a
 * weights recorder follows: 32-bit columns. */
#define APICAL_MAX_RECORDER_WIDTH 4294967295ull

/* Partitions (simulation.partitions) and worker threads
 * (simulation.threads, --threads): each partition keeps a row pointer per
 * neuron of the whole network, so 65536 partitions cost GBs for nothing. */
#define APICAL_MAX_PARTITIONS 1024u
#define APICAL_MAX_THREADS 1024u

/* Times, ms. Every delay, recorder interval and OU step is at least
 * APICAL_MIN_TIME, and every delay and the duration at most APICAL_MAX_TIME:
 * windows of the smallest delay then advance time at every step (the
 * window grid k * d_min is exact for k < 2^52, and 1e9 / 1e-6 = 1e15 <
 * 2^52 = 4.5e15), and a recorder's frames per window, d_min / interval, stay
 * far below 2^64. */
#define APICAL_MIN_TIME 1e-6
#define APICAL_MAX_TIME 1e9

/* Rates, Hz (Poisson rates, inhomogeneous Poisson rates, sinusoid
 * frequencies): a Poisson generator at 1e300 Hz draws intervals that do not
 * advance time and never leaves its window. 1 MHz is one event per us per
 * neuron, far above any neuron's input rate. */
#define APICAL_MAX_RATE 1e6

/* Weights, in the target model's own weight unit (nS, pA, mV, or 1), either
 * sign: 1e9 nS is a 1 S synapse, 1e9 pA 1 mA, 1e9 mV 1 MV; no network means
 * anything near it (1e300 nS used to load). A bound on absurdity, not a
 * promise that every stepper integrates what it lets through: 1e8 nS on a
 * lif_cond_exp under the sweep stepper still ends the run with the
 * neuron's "state not finite" error (tests/t_hostile.sh). */
#define APICAL_MAX_WEIGHT 1e9

/* Presentations of a protocol (training examples, test presentations):
 * working out a run's length replays every example's Wald-distributed
 * phase lengths, and 1e8 presentations are already ~28 h of training at
 * 1000 examples/s (60 MNIST epochs are 3.6e6). */
#define APICAL_MAX_EXAMPLES 100000000ull

/* YAML nodes a network file may stand for once its aliases are expanded,
 * unless it has more than 1/64 of this many of its own: a section parser
 * copies what an alias points at, so a 769 KB file of aliases to aliases
 * built 806 MB of spec. */
#define APICAL_MAX_YAML_NODES 1000000u
#define APICAL_MAX_YAML_EXPANSION 64u

/* The memory a network needs, estimated from its spec, and the largest
 * single item. Saturating: counts that do not fit in a double's range of
 * exact integers are still ordered correctly. */
typedef struct apical_mem_estimate {
    double total;        /* bytes */
    double largest;      /* bytes of the costliest population or projection */
    const char *what;    /* "population" or "projection" */
    const char *name;    /* its name (owned by the spec) */
    int line, col;       /* its position in the network file */
    double synapses;     /* expected synapses of that item (projection) */
} apical_mem_estimate;

/* Synapses projection pj is expected to make (exact for all_to_all,
 * one_to_one, fixed_* and from_file; the mean for bernoulli), and, in
 * *per_part (may be NULL), how many of them the fullest partition gets. */
double apical_proj_synapses(const struct apical_net_spec *spec, const struct apical_proj_spec *pj,
                            double *per_part);

/* Bytes the synapses of projection pj need (part of apical_spec_memory). */
double apical_proj_memory(const struct apical_net_spec *spec, const struct apical_proj_spec *pj);

/* Estimate the bytes a simulation of spec needs at its peak (building
 * included): per-neuron state by model, synapses by each rule's expected
 * count, per-partition tables, recorder and input buffers. */
void apical_spec_memory(const struct apical_net_spec *spec, apical_mem_estimate *out);

/* Bytes of memory this process can still use: the smallest of
 * /proc/meminfo MemAvailable (else free physical pages), the cgroup's
 * memory.max minus memory.current, and RLIMIT_AS. 0 if unknown. */
double apical_memory_available(void);

/* APICAL_E_TOO_LARGE at the costliest item when the estimate exceeds
 * `available` bytes (available <= 0: no check): "needs ~X GiB, Y GiB
 * available". */
apical_status apical_spec_check_memory(const struct apical_net_spec *spec, double available,
                                       apical_error *err);

#endif
