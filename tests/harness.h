/* Shared by Check suites that run small networks: load a network from a
 * string, build and run it with ck_assert on every status, collect spikes. */
#ifndef APICAL_TESTS_HARNESS_H
#define APICAL_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "apical/sim.h"
#include "apical/spec.h"

/* APICAL_TEST_VERBOSE=1: print measured errors and statistics. */
int test_verbose(void);

typedef struct spikes {
    size_t n, cap;
    double *t;
    uint64_t *node;
    size_t *pop;
} spikes;

/* An apical_spike_fn appending to the spikes in user. */
void spikes_record(void *user, size_t pop, uint64_t node, double t);
void spikes_free(spikes *s);
/* FNV-1a over (time bits, node, population) of every spike, in order. */
uint64_t spikes_checksum(const spikes *s);
/* h folded with the bits of the first ns state variables of neurons 0..n-1
 * of population pop (a determinism check's state part). */
uint64_t state_checksum(uint64_t h, const apical_sim *sim, size_t pop, uint64_t n, int ns);
size_t spikes_count_pop(const spikes *s, size_t pop);

apical_net_spec *test_load(const char *yaml);
/* A simulation on `threads` threads, recording spikes into s if not NULL. */
apical_sim *test_build(const apical_net_spec *spec, unsigned threads, spikes *s);
void test_run_to(apical_sim *sim, double t);

/* n input times off the 0.1 ms grid, a fixed LCG per seed, sorted, in
 * (0, t_end), written to out as a YAML list ("[0.123456789 ms, ...]"). */
void test_input_times(unsigned seed, int n, double t_end, char *out, size_t cap);

/* A layered dendritic network (format: duration ms, partitions, a solver
 * fragment such as ", solver: {stepper: exact}", recorders): Poisson ->
 * 40 parrots -> 30 dendritic_hidden (basal, truncated) -> 10
 * dendritic_output -> hidden apical feedback. */
extern const char *const test_layer_net;

#endif
