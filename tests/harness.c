#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_verbose(void)
{
    const char *v = getenv("APICAL_TEST_VERBOSE");
    return v && v[0] && strcmp(v, "0") != 0;
}

void spikes_record(void *user, size_t pop, uint64_t node, double t)
{
    spikes *s = user;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->t = realloc(s->t, s->cap * sizeof *s->t);
        s->node = realloc(s->node, s->cap * sizeof *s->node);
        s->pop = realloc(s->pop, s->cap * sizeof *s->pop);
        ck_assert(s->t && s->node && s->pop);
    }
    s->t[s->n] = t;
    s->node[s->n] = node;
    s->pop[s->n++] = pop;
}

void spikes_free(spikes *s)
{
    free(s->t);
    free(s->node);
    free(s->pop);
    memset(s, 0, sizeof *s);
}

uint64_t spikes_checksum(const spikes *s)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < s->n; k++) {
        uint64_t bits;
        memcpy(&bits, &s->t[k], sizeof bits);
        uint64_t v[3] = {bits, s->node[k], s->pop[k]};
        for (int j = 0; j < 3; j++)
            for (int b = 0; b < 8; b++)
                h = (h ^ ((v[j] >> (8 * b)) & 0xff)) * 1099511628211ull;
    }
    return h;
}

uint64_t state_checksum(uint64_t h, const apical_sim *sim, size_t pop, uint64_t n, int ns)
{
    for (uint64_t i = 0; i < n; i++) {
        const double *y = apical_sim_state(sim, pop, i);
        for (int k = 0; k < ns; k++) {
            uint64_t b;
            memcpy(&b, &y[k], sizeof b);
            h = (h ^ b) * 1099511628211ull;
        }
    }
    return h;
}

size_t spikes_count_pop(const spikes *s, size_t pop)
{
    size_t c = 0;
    for (size_t k = 0; k < s->n; k++)
        c += s->pop[k] == pop;
    return c;
}

apical_net_spec *test_load(const char *yaml)
{
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("test.yaml", yaml, &spec, &err) == APICAL_OK,
                  "load failed: %s\n%s", err.msg, yaml);
    return spec;
}

apical_sim *test_build(const apical_net_spec *spec, unsigned threads, spikes *s)
{
    apical_sim *sim = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_sim_new(spec, threads, &sim, &err) == APICAL_OK, "build: %s", err.msg);
    if (s)
        apical_sim_set_observer(sim, &(apical_sim_observer){spikes_record, NULL, NULL, s});
    return sim;
}

void test_run_to(apical_sim *sim, double t)
{
    apical_error err = {0};
    ck_assert_msg(apical_sim_run(sim, t, NULL, &err) == APICAL_OK, "run: %s", err.msg);
}

/* Parrots relay Poisson input to a hidden layer through a truncated basal
 * projection (the *_end copy: same connectivity and weight, delay + 10 ms);
 * hidden -> output basal; output -> hidden apical (fixed random feedback). */
const char *const test_layer_net =
    "simulation: {duration: %g ms, seed: 5, partitions: %u%s}\n"
    "populations:\n"
    "  in: {size: 40, model: parrot}\n"
    "  hid:\n"
    "    size: 30\n"
    "    model: dendritic_hidden\n"
    "    parameters: {g_A: 0.05 /ms}\n"
    "    initial: {bias: {uniform: {low: -1, high: 1}}, C: {uniform: {low: -1, high: 1}}}\n"
    "  out: {size: 10, model: dendritic_output, initial: {bias: 0.5}}\n"
    "projections:\n"
    "  - {name: ff, source: in, target: hid, connectivity: all_to_all, receptor: basal,\n"
    "     weight: 0.4, delay: 1 ms}\n"
    "  - {name: ff_end, source: in, target: hid, connectivity: all_to_all, receptor: basal_end,\n"
    "     weight: 0.4, delay: 11 ms}\n"
    "  - {name: out, source: hid, target: out, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {uniform: {low: -0.5, high: 1.5}}, delay: 1 ms}\n"
    "  - {name: fb, source: out, target: hid, connectivity: all_to_all, receptor: apical,\n"
    "     weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}\n"
    "inputs:\n"
    "  - {type: poisson, target: in, rate: 40 Hz, receptor: relay, weight: 1}\n"
    "%s";

void test_input_times(unsigned seed, int n, double t_end, char *out, size_t cap)
{
    double *t = malloc((size_t)n * sizeof *t);
    ck_assert(t);
    unsigned long long x = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (int k = 0; k < n; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        t[k] = t_end * (double)(x >> 11) / 9007199254740992.0;
    }
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && t[b - 1] > t[b]; b--) {
            double s = t[b];
            t[b] = t[b - 1];
            t[b - 1] = s;
        }
    size_t used = (size_t)snprintf(out, cap, "[");
    for (int k = 0; k < n && used < cap; k++)
        used += (size_t)snprintf(out + used, cap - used, "%s%.9f ms", k ? ", " : "", t[k]);
    if (used < cap)
        snprintf(out + used, cap - used, "]");
    free(t);
}
