/* A static projection with one constant weight stores it once per
 * projection instead of per synapse (sim/build.c's shares_weight): 4 bytes
 * per synapse instead of 12, and the same spikes bit for bit as when every
 * synapse keeps its own copy. A weights recorder on a projection makes its
 * synapses keep their own weights, so the same network with and without
 * recorders runs both layouts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* COBA-like, 400 neurons at in-degree 20 + 5, driven by Poisson input;
 * exc->inh has drawn weights (its own per synapse), so a partition holds
 * both layouts. %s: the solver fragment, %s: extra recorders. */
static const char *const net_fmt =
    "simulation: {duration: 200 ms, seed: 3, partitions: 2, solver: {stepper: %s}}\n"
    "populations:\n"
    "  exc:\n"
    "    size: 320\n"
    "    model: lif_cond_exp\n"
    "    parameters: &p {C_m: 200 pF, g_L: 10 nS, E_L: -60 mV, V_th: -50 mV, V_reset: -60 mV,\n"
    "                    t_ref: 5 ms, E_exc: 0 mV, E_inh: -80 mV, tau_exc: 5 ms, tau_inh: 10 ms}\n"
    "    initial: &i {V_m: {uniform: {low: -60 mV, high: -50 mV}}}\n"
    "  inh: {size: 80, model: lif_cond_exp, parameters: *p, initial: *i}\n"
    "projections:\n"
    "  - {source: exc, target: exc, connectivity: {rule: fixed_indegree, k: 20}, receptor: exc,\n"
    "     weight: 4 nS, delay: 0.1 ms}\n"
    "  - {source: exc, target: inh, connectivity: {rule: fixed_indegree, k: 20}, receptor: exc,\n"
    "     weight: {uniform: {low: 2 nS, high: 6 nS}}, delay: 0.1 ms}\n"
    "  - {source: inh, target: exc, connectivity: {rule: fixed_indegree, k: 5}, receptor: inh,\n"
    "     weight: 50 nS, delay: {uniform: {low: 0.1 ms, high: 2 ms}}}\n"
    "  - {source: inh, target: inh, connectivity: {rule: fixed_indegree, k: 5}, receptor: inh,\n"
    "     weight: 50 nS, delay: 0.1 ms}\n"
    "inputs:\n"
    "  - {type: poisson, target: exc, rate: 2000 Hz, receptor: exc, weight: 3 nS}\n"
    "  - {type: poisson, target: inh, rate: 2000 Hz, receptor: exc, weight: 3 nS}\n"
    "recorders:\n"
    "  - {type: spikes, population: exc}\n"
    "  - {type: spikes, population: inh}\n"
    "%s";

/* every projection with constant weights recorded: all weights own */
static const char *const weight_recorders =
    "  - {type: weights, projection: exc->exc, interval: 50 ms, sample: 10}\n"
    "  - {type: weights, projection: inh->exc, interval: 50 ms, sample: 10}\n"
    "  - {type: weights, projection: inh->inh, interval: 50 ms, sample: 10}\n";

typedef struct run_result {
    spikes s;
    uint64_t n_syn, bytes;
} run_result;

static int count_syn(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    (*(uint64_t *)user)++;
    return 0;
}

static run_result run(const char *stepper, const char *recorders, unsigned threads)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, net_fmt, stepper, recorders);
    apical_net_spec *spec = test_load(yaml);
    run_result r = {0};
    apical_sim *sim = test_build(spec, threads, &r.s);
    for (size_t j = 0; j < spec->n_projs; j++)
        ck_assert_int_eq(apical_sim_synapses(sim, j, count_syn, &r.n_syn), APICAL_OK);
    r.bytes = apical_sim_stats(sim)->synapse_bytes;
    test_run_to(sim, 200.0);
    apical_sim_free(sim);
    apical_spec_free(spec);
    return r;
}

static void same_spikes(const spikes *a, const spikes *b)
{
    ck_assert_uint_eq(a->n, b->n);
    for (size_t k = 0; k < a->n; k++)
        ck_assert_msg(a->pop[k] == b->pop[k] && a->node[k] == b->node[k] &&
                          memcmp(&a->t[k], &b->t[k], sizeof a->t[k]) == 0,
                      "spike %zu: %zu/%llu at %.17g vs %zu/%llu at %.17g", k, a->pop[k],
                      (unsigned long long)a->node[k], a->t[k], b->pop[k],
                      (unsigned long long)b->node[k], b->t[k]);
}

static void check_layouts(const char *stepper)
{
    run_result own = run(stepper, weight_recorders, 1);
    run_result shared = run(stepper, "", 1);
    run_result shared2 = run(stepper, "", 2);
    ck_assert_uint_gt(shared.s.n, 1000); /* the network is active */
    same_spikes(&own.s, &shared.s);
    same_spikes(&shared.s, &shared2.s);
    /* With own weights every synapse has 8 bytes of weight; shared, none
     * (exc->inh keeps its own, so the partitions keep the full array:
     * the weights array is per partition, not per projection). Exact. */
    ck_assert_uint_eq(own.n_syn, 320 * 20 + 80 * 20 + 400 * 5);
    ck_assert_uint_eq(own.bytes, shared.bytes);
    spikes_free(&own.s);
    spikes_free(&shared.s);
    spikes_free(&shared2.s);
}

START_TEST(test_layouts_sweep)
{
    check_layouts("sweep");
}
END_TEST

START_TEST(test_layouts_gsl)
{
    check_layouts("rkf45");
}
END_TEST

/* Only constant static weights: no per-synapse weights at all. 4 bytes of
 * target per synapse + 24 per delay group + 1 of FIFO index per group + 4
 * per neuron and partition of row index + 8 per projection: here at most
 * 4 + 25 * (groups / synapse) + small. Exact figures, computed. */
START_TEST(test_bytes_per_synapse)
{
    static const char *const yaml =
        "simulation: {duration: 1 ms, seed: 5, partitions: 2}\n"
        "populations: {a: {size: 2000, model: lif_cond_exp}}\n"
        "projections:\n"
        "  - {source: a, target: a, connectivity: {rule: fixed_indegree, k: 80}, receptor: exc,\n"
        "     weight: 6 nS, delay: 0.1 ms}\n";
    static const char *const yaml_recorded =
        "simulation: {duration: 1 ms, seed: 5, partitions: 2}\n"
        "populations: {a: {size: 2000, model: lif_cond_exp}}\n"
        "projections:\n"
        "  - {source: a, target: a, connectivity: {rule: fixed_indegree, k: 80}, receptor: exc,\n"
        "     weight: 6 nS, delay: 0.1 ms}\n"
        "recorders: [{type: weights, projection: a->a, interval: 1 ms, sample: 10}]\n";
    uint64_t bytes[2], n_syn = 2000 * 80;
    for (int v = 0; v < 2; v++) {
        apical_net_spec *spec = test_load(v ? yaml_recorded : yaml);
        apical_sim *sim = test_build(spec, 1, NULL);
        bytes[v] = apical_sim_stats(sim)->synapse_bytes;
        apical_sim_free(sim);
        apical_spec_free(spec);
    }
    /* groups: one per source with targets in a partition, at most
     * 2 x 2000; row index: 2 x 2001 x 4; shared weights 2 x 8 */
    const uint64_t max_shared = n_syn * 4 + 2 * 2000 * 25 + 2 * 2001 * 4 + 2 * 8;
    if (test_verbose())
        printf("synapse tables: %.3f B/syn shared, %.3f own\n", (double)bytes[0] / (double)n_syn,
               (double)bytes[1] / (double)n_syn);
    ck_assert_uint_le(bytes[0], max_shared);
    ck_assert_uint_eq(bytes[1], bytes[0] + n_syn * 8);
}
END_TEST

Suite *shared_weights_suite(void)
{
    Suite *s = suite_create("shared_weights");
    TCase *tc = tcase_create("shared_weights");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bytes_per_synapse);
    tcase_add_test(tc, test_layouts_sweep);
    tcase_add_test(tc, test_layouts_gsl);
    suite_add_tcase(s, tc);
    return s;
}
