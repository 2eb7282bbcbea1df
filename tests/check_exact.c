/* Stepper "exact" (sim/exact.c, the models' apical_exact_ops) against the
 * GSL path and against sampling statistics.
 *
 * The two paths integrate the same equations: the linear part (C, the
 * kernel traces, int_C, int_A) must agree to the GSL reference's own
 * tolerance; int_lambda, the one quadrature (two-point Gauss-Legendre per
 * window), to its error bound. Spikes differ in realisation (time rescaling
 * with Exp(1) thresholds on the GSL path, thinning here) but not in law:
 * counts, Fano factors and intervals are checked within sampling error, and
 * a layered network's rates against the GSL path's.
 *
 * APICAL_TEST_VERBOSE=1 prints the measured differences. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/control.h"
#include "apical/model.h"
#include "apical/sim.h"
#include "apical/spec.h"
#include "harness.h"

static size_t sidx(const char *model, const char *var)
{
    const apical_model_type *m = apical_model_find(model);
    size_t k = apical_field_index(m->state, m->n_state, var);
    ck_assert(k != (size_t)-1);
    return k;
}

/* --- the linear part and the hazard integral against GSL ---------------- */

/* Inputs on every receptor at irregular times, in several windows and
 * several per window; outputs with teaching conductances that differ per
 * neuron (each neuron its own decay rate) and that are equal (one shared
 * rate). Zero-weight inputs at each sample time make the GSL neurons stop
 * there; for the exact path they add nothing. Nothing projects from the
 * dendritic neurons, so their spikes do not change any state: both paths
 * follow the same trajectory whatever their random spikes. */
static const char *agree_net =
    "simulation: {duration: 41 ms, seed: 3}\n"
    "populations:\n"
    "  hid: {size: 2, model: dendritic_hidden, parameters: {g_A: 0.05 /ms},\n"
    "        initial: {C: 0.3, bias: 0.5, apical_bias: -0.2, u_L: 0.4, u_s: 0.1, v_L: -0.3},\n"
    "        solver: %s}\n"
    "  out: {size: 3, model: dendritic_output,\n"
    "        initial: {C: -0.5, bias: 1.0, g_E: {uniform: {low: 0 /ms, high: 1 /ms}}, g_I: 0.5 /ms},\n"
    "        solver: %s}\n"
    "  out2: {size: 2, model: dendritic_output, initial: {C: 2.0, g_E: 1 /ms, g_I: 0 /ms}, solver: %s}\n"
    "inputs:\n"
    "  - {type: spike_times, target: hid, receptor: basal, weight: 1.3,\n"
    "     times: [0.2 ms, 0.25 ms, 0.9 ms, 3.7 ms, 11.1 ms, 11.15 ms, 20.5 ms]}\n"
    "  - {type: spike_times, target: hid, receptor: apical, weight: -2.1,\n"
    "     times: [1.5 ms, 4.05 ms, 4.6 ms, 25.3 ms]}\n"
    "  - {type: spike_times, target: hid, receptor: basal_end, weight: 1.3,\n"
    "     times: [10.2 ms, 10.25 ms, 10.9 ms]}\n"
    "  - {type: spike_times, target: hid, receptor: apical_end, weight: -2.1,\n"
    "     times: [11.5 ms]}\n"
    "  - {type: spike_times, target: out, receptor: basal, weight: 0.8,\n"
    "     times: [0.5 ms, 2.33 ms, 2.34 ms, 7.77 ms, 30.01 ms]}\n"
    "  - {type: spike_times, target: out, receptor: basal_end, weight: 0.8, times: [10.5 ms]}\n"
    "  - {type: spike_times, target: out2, receptor: basal, weight: -1.1,\n"
    "     times: [0.75 ms, 5.5 ms, 5.6 ms]}\n"
    "  - {type: spike_times, target: hid, receptor: basal, weight: 0, times: %s}\n"
    "  - {type: spike_times, target: out, receptor: basal, weight: 0, times: %s}\n"
    "  - {type: spike_times, target: out2, receptor: basal, weight: 0, times: %s}\n"
    /* recording int_lambda is what makes the exact path integrate it */
    "recorders:\n"
    "  - {type: state, population: hid, variables: [int_lambda], interval: 5 ms}\n"
    "  - {type: state, population: out, variables: [int_lambda], interval: 5 ms}\n"
    "  - {type: state, population: out2, variables: [int_lambda], interval: 5 ms}\n";

enum { N_SAMPLES = 40 };

/* State of (pop, neuron) at integer ms t = 1 .. N_SAMPLES into out. */
static void trajectories(const char *solver, double out[][3][8])
{
    char times[1024] = "[", yaml[8192];
    for (int k = 1; k <= N_SAMPLES; k++)
        snprintf(times + strlen(times), sizeof times - strlen(times), "%s%d ms", k > 1 ? ", " : "",
                 k);
    strcat(times, "]");
    snprintf(yaml, sizeof yaml, agree_net, solver, solver, solver, times, times, times);
    apical_net_spec *spec = test_load(yaml);
    apical_sim *sim = test_build(spec, 1, NULL);
    const char *hv[] = {"C", "u_L", "u_s", "v_L", "v_s", "int_C", "int_A", "int_lambda"};
    const char *ov[] = {"C", "u_L", "u_s", "int_C", "int_lambda"};
    for (int k = 1; k <= N_SAMPLES; k++) {
        const double t = k;
        test_run_to(sim, t);
        for (size_t pop = 0; pop < 3; pop++) {
            const uint64_t node = pop == 1 ? 2 : 1; /* out: the third decay rate */
            if (apical_sim_neuron_time(sim, pop, node) != t)
                test_run_to(sim, t + 1e-9);
            ck_assert_double_eq(apical_sim_neuron_time(sim, pop, node), t);
            const double *y = apical_sim_state(sim, pop, node);
            const int hid = pop == 0;
            for (int v = 0; v < (hid ? 8 : 5); v++)
                out[k - 1][pop][v] =
                    y[sidx(hid ? "dendritic_hidden" : "dendritic_output", hid ? hv[v] : ov[v])];
        }
    }
    apical_sim_free(sim);
    apical_spec_free(spec);
}

/* Reference: rk8pd at 1e-12 per step. Linear variables: exact is at
 * rounding, so the difference is the reference's global error, measured
 * 2.8e-13 over ~40 ms (a priori up to a few hundred times its per-step
 * tolerance); asserted 1e-12. int_lambda: Gauss-Legendre 2
 * is exact for cubics; its error comes from each window's curvature and is
 * largest where an input puts a kink into C'' (C' is continuous: the kernel
 * starts at zero). Per window |error| <= (h^3/ 24) max|f''|, f = lambda
 * sigma(C); with lambda = 0.2/ms, |C'| <= 1.5/ms, |C''| <= 0.7/ms^2 here,
 * |f''| <= 0.2 (0.1 |C'|^2 + 0.25 |C''|) < 0.08, so at most 3.3e-3 per
 * window and 0.14 over 40 windows; far below that in practice, since
 * smooth windows contribute O(h^5). Assert 1e-3 absolute (measured
 * 2.9e-4, printed with APICAL_TEST_VERBOSE). */
START_TEST(test_exact_matches_gsl)
{
    static double a[N_SAMPLES][3][8], b[N_SAMPLES][3][8];
    trajectories("{stepper: exact}", a);
    trajectories("{stepper: rk8pd, abs_tol: 1e-12, rel_tol: 1e-12}", b);
    double lin = 0.0, lam = 0.0, lam_tot = 0.0;
    for (int k = 0; k < N_SAMPLES; k++)
        for (int pop = 0; pop < 3; pop++) {
            const int nv = pop == 0 ? 8 : 5;
            for (int v = 0; v < nv - 1; v++)
                lin = fmax(lin, fabs(a[k][pop][v] - b[k][pop][v]));
            lam = fmax(lam, fabs(a[k][pop][nv - 1] - b[k][pop][nv - 1]));
            lam_tot = fmax(lam_tot, b[k][pop][nv - 1]);
        }
    if (test_verbose())
        printf("exact vs rk8pd 1e-12 over %d ms: linear state max |diff| %.2e; int_lambda max "
               "|diff| %.2e (of %.3f)\n",
               N_SAMPLES, lin, lam, lam_tot);
    ck_assert_msg(lin < 1e-12, "linear state differs by %g", lin);
    ck_assert_msg(lam < 1e-3, "int_lambda differs by %g", lam);
    ck_assert(lam_tot > 1.0); /* the hazard integral is not trivially small */
}
END_TEST

/* State recorders sample the closed form inside windows (0.3 ms ticks):
 * the frames of both paths agree to the float resolution of the file. */
typedef struct frames {
    size_t n;
    float v[4096];
} frames;

static void on_frame(void *user, size_t rec, double t, const float *data, size_t width)
{
    (void)rec;
    (void)t;
    frames *f = user;
    for (size_t k = 0; k < width && f->n < sizeof f->v / sizeof f->v[0]; k++)
        f->v[f->n++] = data[k];
}

static void record_mid_window(const char *solver, frames *f)
{
    char yaml[8192];
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: 30 ms, seed: 3}\n"
             "populations:\n"
             "  hid: {size: 2, model: dendritic_hidden, parameters: {g_A: 0.05 /ms},\n"
             "        initial: {C: 0.3, bias: 0.5, u_L: 0.4}, solver: %s}\n"
             "inputs:\n"
             "  - {type: spike_times, target: hid, receptor: basal, weight: 1.3,\n"
             "     times: [0.2 ms, 0.25 ms, 0.9 ms, 3.7 ms, 11.1 ms, 11.15 ms, 20.5 ms]}\n"
             "  - {type: spike_times, target: hid, receptor: apical, weight: -2.1,\n"
             "     times: [1.5 ms, 4.05 ms, 4.6 ms, 25.3 ms]}\n"
             "recorders:\n"
             "  - {type: state, population: hid, variables: [C, u_s, v_L, int_C, int_A],\n"
             "     interval: 0.3 ms}\n",
             solver);
    apical_net_spec *spec = test_load(yaml);
    apical_sim *sim = test_build(spec, 1, NULL);
    apical_sim_set_observer(sim, &(apical_sim_observer){NULL, on_frame, NULL, f});
    test_run_to(sim, 30.0);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

START_TEST(test_exact_recorder)
{
    static frames a, b;
    a.n = b.n = 0;
    record_mid_window("{stepper: exact}", &a);
    record_mid_window("{stepper: rk8pd, abs_tol: 1e-12, rel_tol: 1e-12}", &b);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_uint_eq(a.n, 100 * 2 * 5);
    double d = 0.0;
    for (size_t k = 0; k < a.n; k++)
        d = fmax(d, fabs((double)a.v[k] - b.v[k]) / fmax(1.0, fabs((double)b.v[k])));
    if (test_verbose())
        printf("exact recorder: %zu values, max relative |diff| %.2e\n", a.n, d);
    /* recorded as float32: states a few 1e-13 apart may round to adjacent
     * floats, so the bound is 2 float ulps (measured: identical floats) */
    ck_assert_msg(d < 2.5e-7, "recorded state differs by %g", d);
}
END_TEST

/* --- spiking by thinning ------------------------------------------------ */

/* 2000 neurons held at C* = 0.5 (lambda = 124.5 Hz) for 500 ms, as the GSL
 * path's test in check_dendritic.c: mean count within 4 SE of lambda T,
 * Fano factor within 4 SD of 1, intervals Exp(lambda) by KS (p = 0.001). */
static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

START_TEST(test_exact_poisson)
{
    const int n = 2000;
    const double Cstar = 0.5, T = 500.0, lam = 0.2 / (1.0 + exp(-Cstar));
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: %g ms, seed: 17}\n"
             "populations:\n"
             "  h: {size: %d, model: dendritic_hidden, solver: {stepper: exact},\n"
             "      initial: {C: %.17g, bias: %.17g}}\n",
             T, n, Cstar, Cstar * 0.7 / 0.6);
    apical_net_spec *spec = test_load(yaml);
    spikes s = {0};
    apical_sim *sim = test_build(spec, 1, &s);
    test_run_to(sim, T);
    double *counts = calloc(n, sizeof *counts), *last = malloc(n * sizeof *last);
    double *isi = malloc((s.n + 1) * sizeof *isi);
    size_t m = 0;
    for (int i = 0; i < n; i++)
        last[i] = 0.0;
    for (size_t k = 0; k < s.n; k++) {
        counts[s.node[k]] += 1.0;
        if (last[s.node[k]] < T / 2.0)
            isi[m++] = s.t[k] - last[s.node[k]];
        last[s.node[k]] = s.t[k];
    }
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++)
        mean += counts[i] / n;
    for (int i = 0; i < n; i++)
        var += (counts[i] - mean) * (counts[i] - mean) / (n - 1);
    const double mu = lam * T, se = sqrt(mu / n);
    const double fano = var / mean, fano_sd = sqrt(2.0 / (n - 1) + 1.0 / (n * mu));
    qsort(isi, m, sizeof *isi, cmp_double);
    double ks = 0.0;
    for (size_t k = 0; k < m; k++) {
        double F = 1.0 - exp(-lam * isi[k]);
        ks = fmax(ks, fmax(fabs(F - (double)k / m), fabs((double)(k + 1) / m - F)));
    }
    if (test_verbose())
        printf("exact poisson: mean %.4f (expected %.4f, SE %.4f), Fano %.4f (SD %.4f), KS %.5f "
               "(limit %.5f)\n",
               mean, mu, se, fano, fano_sd, ks, 1.95 / sqrt((double)m));
    ck_assert_msg(fabs(mean - mu) < 4.0 * se, "mean count %g, expected %g", mean, mu);
    ck_assert_msg(fabs(fano - 1.0) < 4.0 * fano_sd, "Fano factor %g", fano);
    ck_assert_msg(ks < 1.95 / sqrt((double)m), "KS distance %g", ks);
    free(counts);
    free(last);
    free(isi);
    spikes_free(&s);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* t_ref = 4 ms: no interval shorter than t_ref, and the rate of a
 * dead-time Poisson process, lambda/(1 + lambda t_ref), within 4 SE. */
START_TEST(test_exact_refractory)
{
    const int n = 1000;
    const double T = 400.0, t_ref = 4.0, lam = 0.2 / (1.0 + exp(-1.0));
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: %g ms, seed: 4}\n"
             "populations:\n"
             "  h: {size: %d, model: dendritic_hidden, solver: {stepper: exact},\n"
             "      parameters: {t_ref: %g ms}, initial: {C: 1, bias: %.17g}}\n",
             T, n, t_ref, 0.7 / 0.6);
    apical_net_spec *spec = test_load(yaml);
    spikes s = {0};
    apical_sim *sim = test_build(spec, 1, &s);
    test_run_to(sim, T);
    double *last = malloc(n * sizeof *last), min_isi = HUGE_VAL;
    for (int i = 0; i < n; i++)
        last[i] = -HUGE_VAL;
    for (size_t k = 0; k < s.n; k++) {
        min_isi = fmin(min_isi, s.t[k] - last[s.node[k]]);
        last[s.node[k]] = s.t[k];
    }
    const double rate = lam / (1.0 + lam * t_ref), mu = rate * T * n;
    /* a renewal count's variance is below Poisson's: sqrt(mu) bounds the SE */
    if (test_verbose())
        printf("exact refractory: %zu spikes (expected %.1f), shortest interval %.4f ms\n", s.n,
               mu, min_isi);
    ck_assert_msg(min_isi >= t_ref, "interval %g ms < t_ref", min_isi);
    ck_assert_msg(fabs((double)s.n - mu) < 4.0 * sqrt(mu), "%zu spikes, expected %g", s.n, mu);
    free(last);
    spikes_free(&s);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* A 2500 ms delay makes the window 2500 ms: e^(g window) overflowed and the
 * state became NaN while the run went on. The window now runs in pieces of
 * at most 40 e-foldings, so the result matches the same network on 1 ms
 * windows (a zero-weight 1 ms projection sets the grid) to rounding: same
 * spikes (candidates come from each neuron's own stream), same state. */
static const char *const long_delay_net =
    "simulation: {duration: 10000 ms, seed: 3, solver: {stepper: exact}}\n"
    "populations:\n"
    "  hid: {size: 4, model: dendritic_hidden, initial: {bias: {uniform: {low: -2, high: 2}}}}\n"
    "projections:\n"
    "  - {name: fb, source: hid, target: hid, connectivity: all_to_all, receptor: apical,\n"
    "     weight: 0.05, delay: 2500 ms}\n"
    "  - {name: late, source: hid, target: hid, connectivity: all_to_all, receptor: basal,\n"
    "     weight: 0.02, delay: 2500 ms}\n"
    "%s";

START_TEST(test_exact_long_window)
{
    spikes s[2] = {{0}, {0}};
    double y[2][4][32];
    size_t ns = 0, ih = 0;
    for (int k = 0; k < 2; k++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml, long_delay_net,
                 k ? "  - {source: hid, target: hid, connectivity: one_to_one, receptor: basal,\n"
                     "     weight: 0, delay: 1 ms}\n"
                   : "");
        apical_net_spec *spec = test_load(yaml);
        apical_sim *sim = test_build(spec, 1, &s[k]);
        test_run_to(sim, 10000.0);
        ck_assert_double_eq(apical_sim_stats(sim)->min_delay, k ? 1.0 : 2500.0);
        ns = spec->pops[0].model->n_state;
        ih = spec->pops[0].model->exact->int_hazard;
        for (uint64_t i = 0; i < 4; i++)
            memcpy(y[k][i], apical_sim_state(sim, 0, i), ns * sizeof(double));
        apical_sim_free(sim);
        apical_spec_free(spec);
    }
    ck_assert_uint_gt(s[0].n, 1000);
    ck_assert_uint_eq(s[0].n, s[1].n);
    for (size_t j = 0; j < s[0].n; j++)
        ck_assert_msg(fabs(s[0].t[j] - s[1].t[j]) < 1e-9 && s[0].node[j] == s[1].node[j],
                      "spike %zu", j);
    for (uint64_t i = 0; i < 4; i++)
        for (size_t v = 0; v < ns; v++) {
            if (v == ih) /* quadrature per piece: the nodes differ */
                continue;
            ck_assert_msg(isfinite(y[0][i][v]), "neuron %llu var %zu: %g", (unsigned long long)i,
                          v, y[0][i][v]);
            ck_assert_msg(fabs(y[0][i][v] - y[1][i][v]) <= 1e-9 * (1.0 + fabs(y[1][i][v])),
                          "neuron %llu var %zu: %.15g vs %.15g", (unsigned long long)i, v,
                          y[0][i][v], y[1][i][v]);
        }
    spikes_free(&s[0]);
    spikes_free(&s[1]);
}
END_TEST

/* A state that is no longer finite stops the run as a GSL failure does:
 * APICAL_E_SOLVER naming population, neuron, time and state. The loader
 * refuses a weight above APICAL_MAX_WEIGHT, so the absurd one is put into
 * the spec after loading (a protocol's updates can still reach it). */
START_TEST(test_exact_not_finite)
{
    const char *yaml =
        "simulation: {duration: 100 ms, seed: 1, solver: {stepper: exact}}\n"
        "populations:\n"
        "  in: {size: 1, model: parrot}\n"
        "  hid: {size: 2, model: dendritic_hidden}\n"
        "projections:\n"
        "  - {source: in, target: hid, connectivity: all_to_all, receptor: basal,\n"
        "     weight: 1, delay: 1 ms}\n"
        "inputs: [{type: poisson, target: in, rate: 1000 Hz, receptor: relay, weight: 1}]\n";
    apical_net_spec *spec = test_load(yaml);
    spec->projs[0].weight.a = 1e308;
    apical_sim *sim = test_build(spec, 1, NULL);
    apical_error err = {0};
    ck_assert_int_eq(apical_sim_run(sim, 100.0, NULL, &err), APICAL_E_SOLVER);
    ck_assert_msg(strstr(err.msg, "population 'hid' neuron 0") && strstr(err.msg, "not finite") &&
                      strstr(err.msg, "state: C = "),
                  "'%s'", err.msg);
    ck_assert_int_eq(err.pos.line, 4);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* --- networks ------------------------------------------------------------ */

/* The layered network of tests/harness.c, every dendritic population on
 * `stepper`. */
static void run_layers(double T, unsigned partitions, unsigned threads, const char *stepper,
                       spikes *s)
{
    char yaml[4096], solver[64];
    snprintf(solver, sizeof solver, ", solver: {stepper: %s}", stepper);
    snprintf(yaml, sizeof yaml, test_layer_net, T, partitions, solver, "");
    apical_net_spec *spec = test_load(yaml);
    apical_sim *sim = test_build(spec, threads, s);
    test_run_to(sim, T);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

/* Same spikes, bit for bit, for 1 and 3 partitions on 1 and 2 threads. */
START_TEST(test_exact_determinism)
{
    spikes a = {0}, b = {0}, c = {0};
    run_layers(300.0, 1, 1, "exact", &a);
    run_layers(300.0, 3, 1, "exact", &b);
    run_layers(300.0, 3, 2, "exact", &c);
    ck_assert_uint_gt(spikes_count_pop(&a, 1), 500);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_uint_eq(a.n, c.n);
    ck_assert_uint_eq(spikes_checksum(&a), spikes_checksum(&b));
    ck_assert_uint_eq(spikes_checksum(&a), spikes_checksum(&c));
    spikes_free(&a);
    spikes_free(&b);
    spikes_free(&c);
}
END_TEST

/* The layered network's spike counts per population on both paths, over
 * 5 seeds' worth of time (2 s): the inputs are the same realisation, the
 * spikes independent ones, so counts differ by sampling noise, of variance
 * about n_exact + n_gsl for Poisson-like counts (feedback through the
 * network adds some: accept 5 SD). */
START_TEST(test_exact_network_rates)
{
    spikes a = {0}, b = {0};
    run_layers(2000.0, 1, 1, "exact", &a);
    run_layers(2000.0, 1, 1, "rkf45", &b);
    for (size_t pop = 1; pop <= 2; pop++) {
        const double na = (double)spikes_count_pop(&a, pop), nb = (double)spikes_count_pop(&b, pop);
        if (test_verbose())
            printf("network: population %zu: exact %.0f spikes, rkf45 %.0f (diff %.1f SD)\n", pop,
                   na, nb, (na - nb) / sqrt(na + nb));
        ck_assert_msg(fabs(na - nb) < 5.0 * sqrt(na + nb), "pop %zu: %g vs %g spikes", pop, na,
                      nb);
    }
    spikes_free(&a);
    spikes_free(&b);
}
END_TEST

/* --- what the loader refuses --------------------------------------------- */

static void expect_error(const char *yaml, const char *what, int line)
{
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert(apical_spec_load_string("bad.yaml", yaml, &spec, &err) != APICAL_OK);
    ck_assert_msg(strstr(err.msg, what), "message '%s' lacks '%s'", err.msg, what);
    ck_assert_int_eq(err.pos.line, line);
}

START_TEST(test_exact_refusals)
{
    expect_error("simulation: {duration: 1 ms}\n"
                 "populations:\n"
                 "  a: {size: 1, model: lif_cond_exp, solver: {stepper: exact}}\n",
                 "needs a model integrable in closed form", 3);
    expect_error("simulation: {duration: 1 ms}\n"
                 "populations:\n"
                 "  p: {size: 1, model: parrot}\n"
                 "  h: {size: 1, model: dendritic_hidden, solver: {stepper: exact}}\n"
                 "projections:\n"
                 "  - {source: p, target: h, connectivity: all_to_all, receptor: basal,\n"
                 "     weight: 1, delay: 1 ms, plasticity: {rule: stdp}}\n",
                 "uses stepper 'exact'", 7);
    expect_error("simulation: {duration: 1 ms}\n"
                 "populations:\n"
                 "  h: {size: 1, model: dendritic_hidden, solver: {stepper: exact}}\n"
                 "inputs:\n"
                 "  - {type: dc, target: h, amplitude: 1 pA}\n",
                 "integrates synaptic inputs only", 5);
    /* for the whole simulation: exact where the model allows it */
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert(apical_spec_load_string("ok.yaml",
                                      "simulation: {duration: 1 ms, solver: {stepper: exact}}\n"
                                      "populations:\n"
                                      "  p: {size: 1, model: parrot}\n"
                                      "  h: {size: 1, model: dendritic_hidden}\n",
                                      &spec, &err) == APICAL_OK);
    ck_assert_str_eq(spec->pops[1].stepper, "exact");
    ck_assert_str_ne(spec->pops[0].stepper, "exact");
    apical_spec_free(spec);
}
END_TEST

/* A soma decay rate equal to a kernel rate has no closed form of this kind:
 * the run stops at once with a message, not with garbage. */
START_TEST(test_exact_degenerate_rate)
{
    apical_net_spec *spec = test_load(
        "simulation: {duration: 10 ms}\n"
        "populations:\n"
        "  h: {size: 2, model: dendritic_hidden, solver: {stepper: exact},\n"
        "      parameters: {g_L: 0.1 /ms, g_B: 0 /ms}}\n");
    apical_sim *sim = test_build(spec, 1, NULL);
    apical_error err = {0};
    ck_assert_int_ne(apical_sim_run(sim, 10.0, NULL, &err), APICAL_OK);
    ck_assert_msg(strstr(err.msg, "decay rate"), "'%s'", err.msg);
    ck_assert_int_eq(err.pos.line, 3);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* --- inputs applied in runs (sim/exact.c apply_fused) ------------------- */

/* A hidden layer driven hard enough that a window holds ~20 basal inputs
 * from the same all_to_all projection (runs of four) with candidates
 * between them, and apical feedback between the runs. Strong weights (sd
 * 3) and 2 s, ~60 000 spikes: an input missing from a candidate's replay
 * changes its hazard only slightly (the kernel rises from 0), and it takes
 * that many thinning decisions for such an error to flip one (it did, in a
 * build that skipped the replay; a pass that reassociated the sums changed
 * the states' bits). */
static const char *const fused_net =
    "simulation: {duration: 2000 ms, seed: 7, partitions: 1, solver: {stepper: exact}}\n"
    "populations:\n"
    "  in: {size: 60, model: parrot}\n"
    "  hid:\n"
    "    size: 100\n"
    "    model: dendritic_hidden\n"
    "    parameters: {g_A: 0.05 /ms}\n"
    "    initial: {bias: {uniform: {low: -1, high: 1}}, C: {uniform: {low: -1, high: 1}}}\n"
    "  out: {size: 10, model: dendritic_output, initial: {bias: 0.5}}\n"
    "projections:\n"
    "  - {name: ff, source: in, target: hid, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {normal: {mean: 0, sd: 3}}, delay: 1 ms}\n"
    "  - {name: out, source: hid, target: out, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {uniform: {low: -0.5, high: 1.5}}, delay: 1 ms}\n"
    "  - {name: fb, source: out, target: hid, connectivity: all_to_all, receptor: apical,\n"
    "     weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}\n"
    "inputs:\n"
    "  - {type: poisson, target: in, rate: 300 Hz, receptor: relay, weight: 1}\n";

/* The run's spikes, and a checksum of every hidden and output state
 * except int_lambda (the last variable, 0 unless tracked). */
static uint64_t run_fused(int track_integral, spikes *s)
{
    apical_net_spec *spec = test_load(fused_net);
    apical_sim *sim = test_build(spec, 1, s);
    if (track_integral) {
        apical_engine_track_integral(sim, 1);
        apical_engine_track_integral(sim, 2);
    }
    test_run_to(sim, 2000.0);
    uint64_t h = state_checksum(14695981039346656037ull, sim, 1, 100,
                                (int)sidx("dendritic_hidden", "int_lambda"));
    h = state_checksum(h, sim, 2, 10, (int)sidx("dendritic_output", "int_lambda"));
    apical_sim_free(sim);
    apical_spec_free(spec);
    return h;
}

/* Consecutive inputs onto the same targets are added in one pass of up to
 * four, and a candidate inside a run gets its accumulators by replaying
 * the run's inputs before it: the result must be that of one input at a
 * time. A tracked int_lambda's quadrature nodes end runs early (a node
 * needs the accumulators at its place), so tracking moves where runs break
 * and must change nothing else: every other state and every spike bit for
 * bit (a pass that reassociated the sums, or a wrong replay, differs). */
START_TEST(test_exact_fused_inputs)
{
    spikes a = {0}, b = {0};
    const uint64_t ha = run_fused(0, &a), hb = run_fused(1, &b);
    ck_assert_uint_gt(spikes_count_pop(&a, 1), 300);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_uint_eq(spikes_checksum(&a), spikes_checksum(&b));
    ck_assert_uint_eq(ha, hb);
    spikes_free(&a);
    spikes_free(&b);
}
END_TEST

Suite *exact_suite(void)
{
    Suite *s = suite_create("exact");
    TCase *tc = tcase_create("exact");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_exact_matches_gsl);
    tcase_add_test(tc, test_exact_recorder);
    tcase_add_test(tc, test_exact_poisson);
    tcase_add_test(tc, test_exact_refractory);
    tcase_add_test(tc, test_exact_determinism);
    tcase_add_test(tc, test_exact_fused_inputs);
    tcase_add_test(tc, test_exact_network_rates);
    tcase_add_test(tc, test_exact_refusals);
    tcase_add_test(tc, test_exact_degenerate_rate);
    tcase_add_test(tc, test_exact_long_window);
    tcase_add_test(tc, test_exact_not_finite);
    suite_add_tcase(s, tc);
    return s;
}
