/* Current devices and inhomogeneous Poisson input, against analytic
 * solutions and sampling statistics. A passive membrane (threshold out of
 * reach) turns a current into V - E_L by a first-order low-pass with
 * tau_m = C/g_L = 20 ms, so responses have closed forms. Zero-weight
 * spike_times inputs make the engine stop exactly at sample times. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/sim.h"
#include "apical/spec.h"
#include "harness.h"

static apical_net_spec *load(const char *yaml)
{
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("dev.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    return spec;
}

static const char *passive =
    "  n: {size: %d, model: lif_cond_exp, parameters: {V_th: 100 mV, V_reset: -70 mV, E_L: -70 mV},\n"
    "      initial: {V_m: -70 mV}}\n";

#define SAMPLES "[5 ms, 20 ms, 50.5 ms, 80 ms, 120 ms, 150 ms, 199 ms]"
static const double samples[] = {5, 20, 50.5, 80, 120, 150, 199};
enum { N_SAMPLES = 7 };

/* Run to each sample time and compare V of neuron 0 with f(t). */
static void check_trace(const char *yaml, double (*f)(double), double tol)
{
    apical_net_spec *spec = load(yaml);
    apical_sim *sim = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    for (int k = 0; k < N_SAMPLES; k++) {
        ck_assert_int_eq(apical_sim_run(sim, samples[k] + 0.01, NULL, &err), APICAL_OK);
        ck_assert_double_eq(apical_sim_neuron_time(sim, 0, 0), samples[k]);
        double v = apical_sim_state(sim, 0, 0)[0], want = f(samples[k]);
        ck_assert_msg(fabs(v - want) < tol, "t = %g: V = %.10f, analytic %.10f", samples[k], v, want);
    }
    apical_sim_free(sim);
    apical_spec_free(spec);
}

/* Steps of +150 pA at 10 ms, to -50 pA at 60 ms, to +80 pA at 110 ms:
 * each change d at t_k adds d/g_L (1 - exp(-(t - t_k)/tau_m)). */
static double step_response(double t)
{
    const double tk[] = {10, 60, 110}, dk[] = {150, -200, 130};
    double v = -70.0;
    for (int k = 0; k < 3; k++)
        if (t > tk[k])
            v += dk[k] / 10.0 * (1.0 - exp(-(t - tk[k]) / 20.0));
    return v;
}

START_TEST(test_step_current)
{
    char yaml[1024];
    int w = snprintf(yaml, sizeof yaml,
                     "simulation: {duration: 200 ms, solver: {stepper: rkf45, abs_tol: 1e-10, rel_tol: 1e-10}}\n"
                     "populations:\n");
    w += snprintf(yaml + w, sizeof yaml - (size_t)w, passive, 1);
    snprintf(yaml + w, sizeof yaml - (size_t)w,
             "inputs:\n"
             "  - {type: step_current, target: n, times: [10 ms, 60 ms, 110 ms], amplitudes: [150 pA, -50 pA, 80 pA]}\n"
             "  - {type: spike_times, target: n, receptor: exc, weight: 0 nS, times: " SAMPLES "}\n");
    /* rkf45 at 1e-10 per step: measured 2.7e-9 mV at worst (with dc) */
    check_trace(yaml, step_response, 1e-8);
}
END_TEST

/* DC 120 pA on [30, 130) ms: a step up and a step down. */
static double dc_response(double t)
{
    double v = -70.0;
    if (t > 30)
        v += 12.0 * (1.0 - exp(-(t - 30) / 20.0));
    if (t > 130)
        v -= 12.0 * (1.0 - exp(-(t - 130) / 20.0));
    return v;
}

START_TEST(test_dc)
{
    char yaml[1024];
    int w = snprintf(yaml, sizeof yaml,
                     "simulation: {duration: 200 ms, solver: {stepper: rkf45, abs_tol: 1e-10, rel_tol: 1e-10}}\n"
                     "populations:\n");
    w += snprintf(yaml + w, sizeof yaml - (size_t)w, passive, 1);
    snprintf(yaml + w, sizeof yaml - (size_t)w,
             "inputs:\n"
             "  - {type: dc, target: n, amplitude: 120 pA, start: 30 ms, stop: 130 ms}\n"
             "  - {type: spike_times, target: n, receptor: exc, weight: 0 nS, times: " SAMPLES "}\n");
    check_trace(yaml, dc_response, 1e-8);
}
END_TEST

/* u' = -u/tau + (A/C) sin(w t + phi) from u(0) = 0:
 * u = K [(1/tau) sin(w t + phi) - w cos(w t + phi)] + c e^(-t/tau),
 * K = (A/C) / (1/tau^2 + w^2), c chosen so u(0) = 0. Offset 20 pA adds a
 * step at 0. */
static double sine_response(double t)
{
    const double A = 100.0, C = 200.0, tau = 20.0, w = 2 * M_PI * 40e-3, phi = M_PI / 3;
    const double K = (A / C) / (1 / (tau * tau) + w * w);
    double up = K * (sin(w * t + phi) / tau - w * cos(w * t + phi));
    double up0 = K * (sin(phi) / tau - w * cos(phi));
    return -70.0 + up - up0 * exp(-t / tau) + 2.0 * (1.0 - exp(-t / tau));
}

START_TEST(test_sinusoidal)
{
    char yaml[1024];
    int w = snprintf(yaml, sizeof yaml,
                     "simulation: {duration: 200 ms, solver: {stepper: rkf45, abs_tol: 1e-10, rel_tol: 1e-10}}\n"
                     "populations:\n");
    w += snprintf(yaml + w, sizeof yaml - (size_t)w, passive, 1);
    snprintf(yaml + w, sizeof yaml - (size_t)w,
             "inputs:\n"
             "  - {type: sinusoidal_current, target: n, amplitude: 100 pA, frequency: 40 Hz, phase: 60, offset: 20 pA}\n"
             "  - {type: spike_times, target: n, receptor: exc, weight: 0 nS, times: " SAMPLES "}\n");
    /* steps follow the sinusoid (~1000 of them in 200 ms): measured 1.0e-8 mV */
    check_trace(yaml, sine_response, 4e-8);
}
END_TEST

/* OU current (mean m, sd s, correlation time tau_I) through the membrane
 * low-pass: stationary V has mean E_L + m/g_L and variance
 * (s/g_L)^2 tau_I / (tau_I + tau_m) = 20 mV^2. Holding the OU value over
 * dt = tau_I/50 changes that by 2.5e-5 relative (the discrete Lyapunov
 * equation of the held process, sampled mid-step), so the bounds are pure
 * sampling error: 2000 neurons sampled at 300, 400, 500, 600 ms (V's
 * autocorrelation at 100 ms is e^-5: the 8000 samples are independent to
 * 1%). Mean within 5 standard errors (0.25 mV); variance within 4.5 SD of
 * a normal sample variance, 4.5 sqrt(2/7999) = 7.1%. */
START_TEST(test_ou_statistics)
{
    enum { N = 2000, NT = 4 };
    const double ts[NT] = {299.95, 399.95, 499.95, 599.95};
    char yaml[1024];
    int w = snprintf(yaml, sizeof yaml, "simulation: {duration: 600 ms, seed: 5}\npopulations:\n");
    w += snprintf(yaml + w, sizeof yaml - (size_t)w, passive, N);
    snprintf(yaml + w, sizeof yaml - (size_t)w,
             "inputs:\n"
             "  - {type: ou_current, target: n, mean: 50 pA, sd: 100 pA, tau: 5 ms, dt: 0.1 ms}\n"
             "  - {type: spike_times, target: n, receptor: exc, weight: 0 nS,\n"
             "     times: [299.95 ms, 399.95 ms, 499.95 ms, 599.95 ms]}\n");
    apical_net_spec *spec = load(yaml);
    apical_sim *sim = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    double m = 0, m2 = 0;
    for (int k = 0; k < NT; k++) {
        ck_assert_int_eq(apical_sim_run(sim, ts[k] + 0.01, NULL, &err), APICAL_OK);
        for (uint64_t i = 0; i < N; i++) {
            ck_assert_double_eq(apical_sim_neuron_time(sim, 0, i), ts[k]);
            double v = apical_sim_state(sim, 0, i)[0];
            m += v;
            m2 += v * v;
        }
    }
    const double n = (double)N * NT;
    m /= n;
    double var = (m2 / n - m * m) * n / (n - 1);
    const double var_expect = 100.0 * 5.0 / 25.0; /* (100 pA / 10 nS)^2 * 5/(5+20) */
    if (test_verbose())
        printf("OU: mean V %.4f (SE %.4f), var %.4f (expected %.4f, SD %.4f)\n", m,
               sqrt(var_expect / n), var, var_expect, var_expect * sqrt(2.0 / (n - 1)));
    ck_assert_msg(fabs(m - (-65.0)) < 5 * sqrt(var_expect / n), "mean V %g", m);
    ck_assert_msg(fabs(var / var_expect - 1.0) < 4.5 * sqrt(2.0 / (n - 1)), "var V %g, expected %g",
                  var, var_expect);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* Inhomogeneous Poisson, rates 20 Hz on [0, 300) and 150 Hz on [300, ...):
 * event counts over 500 neurons in each piece within 5 standard deviations. */
static uint64_t inhom_events(double duration)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: %g ms, seed: 8}\n"
             "populations: {n: {size: 500, model: lif_cond_exp}}\n"
             "inputs: [{type: inhomogeneous_poisson, target: n, times: [0 ms, 300 ms],\n"
             "          rates: [20 Hz, 150 Hz], receptor: exc, weight: 0 nS}]\n",
             duration);
    apical_net_spec *spec = load(yaml);
    apical_sim *sim = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    ck_assert_int_eq(apical_sim_run(sim, duration, NULL, &err), APICAL_OK);
    uint64_t n = apical_sim_stats(sim)->events;
    apical_sim_free(sim);
    apical_spec_free(spec);
    return n;
}

START_TEST(test_inhomogeneous_poisson)
{
    double first = 500 * 20 * 0.3, second = 500 * 150 * 0.2;
    uint64_t a = inhom_events(300.0), b = inhom_events(500.0);
    ck_assert_msg(fabs((double)a - first) < 5 * sqrt(first), "first piece %llu, expected %g",
                  (unsigned long long)a, first);
    ck_assert_msg(fabs((double)(b - a) - second) < 5 * sqrt(second + first),
                  "second piece %llu, expected %g", (unsigned long long)(b - a), second);
}
END_TEST

/* A current pushes a neuron over threshold: spikes only while it is on. */
START_TEST(test_dc_drives_spikes)
{
    apical_net_spec *spec = load(
        "simulation: {duration: 300 ms}\n"
        "populations: {n: {size: 1, model: lif_curr_exp, initial: {V_m: -60 mV}}}\n"
        "inputs: [{type: dc, target: n, amplitude: 300 pA, start: 100 ms, stop: 200 ms}]\n");
    apical_sim *sim = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    ck_assert_int_eq(apical_sim_run(sim, 100.0, NULL, &err), APICAL_OK);
    ck_assert_uint_eq(apical_sim_stats(sim)->spikes, 0);
    ck_assert_int_eq(apical_sim_run(sim, 200.0, NULL, &err), APICAL_OK);
    /* V_inf = -60 + 30 = -30 mV: first spike after 20 ln(30/20) = 8.1 ms,
     * then every 5 + 20 ln(30/20) = 13.1 ms: 8 spikes in 100 ms */
    ck_assert_uint_eq(apical_sim_stats(sim)->spikes, 8);
    ck_assert_int_eq(apical_sim_run(sim, 300.0, NULL, &err), APICAL_OK);
    ck_assert_uint_eq(apical_sim_stats(sim)->spikes, 8);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* --- determinism with current devices ------------------------------------ */

/* A recurrent network driven by every current device kind (step, dc,
 * sinusoid, OU) on overlapping node subsets, on top of Poisson input, with
 * both current- and conductance-based targets. Device changes are events in
 * the targets' partitions; the OU streams are keyed by neuron id. */
static const char *device_net =
    "simulation: {duration: 250 ms, seed: 23, partitions: %u}\n"
    "populations:\n"
    "  exc: {size: 120, model: lif_cond_exp, initial: {V_m: {uniform: {low: -60 mV, high: -50 mV}}}}\n"
    "  inh: {size: 30, model: lif_curr_exp, initial: {V_m: {uniform: {low: -70 mV, high: -55 mV}}}}\n"
    "projections:\n"
    "  - {source: exc, target: exc, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc,\n"
    "     weight: {normal: {mean: 4 nS, sd: 1 nS, low: 0 nS}}, delay: {uniform: {low: 0.5 ms, high: 1.5 ms}}}\n"
    "  - {source: exc, target: inh, connectivity: {rule: fixed_indegree, k: 12}, receptor: exc, weight: 40 pA, delay: 0.7 ms}\n"
    "  - {source: inh, target: exc, connectivity: {rule: fixed_outdegree, k: 20}, receptor: inh, weight: 30 nS, delay: 0.6 ms}\n"
    "inputs:\n"
    "  - {type: poisson, target: exc, rate: 300 Hz, receptor: exc, weight: 5 nS}\n"
    "  - {type: step_current, target: exc, nodes: [0, 5, 17, 40, 41, 42, 77, 99, 118],\n"
    "     times: [20 ms, 60.35 ms, 140 ms], amplitudes: [400 pA, -150 pA, 250 pA]}\n"
    "  - {type: dc, target: exc, nodes: [3, 5, 60, 61, 119], amplitude: 300 pA, start: 30.05 ms, stop: 180 ms}\n"
    "  - {type: sinusoidal_current, target: exc, amplitude: 250 pA, frequency: 13 Hz, phase: 30,\n"
    "     offset: 50 pA, start: 10 ms, stop: 230 ms}\n"
    "  - {type: ou_current, target: exc, mean: 50 pA, sd: 150 pA, tau: 5 ms, dt: 0.25 ms}\n"
    "  - {type: ou_current, target: inh, nodes: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28],\n"
    "     mean: 200 pA, sd: 300 pA, tau: 3 ms, dt: 0.3 ms, start: 15 ms}\n"
    "  - {type: sinusoidal_current, target: inh, nodes: [1, 2, 3], amplitude: 400 pA, frequency: 7 Hz}\n";

/* FNV-1a over the spikes, then over each neuron's time and full state. */
static uint64_t run_devices(unsigned partitions, unsigned threads, size_t *n_spikes)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, device_net, partitions);
    apical_net_spec *spec = test_load(yaml);
    spikes s = {0};
    apical_sim *sim = test_build(spec, threads, &s);
    test_run_to(sim, 250.0);
    uint64_t h = spikes_checksum(&s);
    for (size_t p = 0; p < spec->n_pops; p++) {
        unsigned n_state = (unsigned)spec->pops[p].model->n_state;
        for (uint64_t i = 0; i < spec->pops[p].size; i++) {
            double t = apical_sim_neuron_time(sim, p, i);
            const double *y = apical_sim_state(sim, p, i);
            const unsigned char *b = (const unsigned char *)&t;
            for (size_t k = 0; k < sizeof t; k++)
                h = (h ^ b[k]) * 0x100000001b3ull;
            b = (const unsigned char *)y;
            for (size_t k = 0; k < n_state * sizeof *y; k++)
                h = (h ^ b[k]) * 0x100000001b3ull;
        }
    }
    *n_spikes = s.n;
    apical_sim_free(sim);
    spikes_free(&s);
    apical_spec_free(spec);
    return h;
}

/* Same file and seed: the same spikes and final states bit for bit with
 * 1, 2 and 3 partitions on 1 and 2 threads (tests/check_engine.c does this
 * for a network without devices). */
START_TEST(test_devices_determinism)
{
    size_t n0, n;
    uint64_t h0 = run_devices(1, 1, &n0);
    if (test_verbose())
        printf("devices determinism: %zu spikes\n", n0);
    ck_assert_uint_gt(n0, 300);
    for (unsigned parts = 1; parts <= 3; parts++)
        for (unsigned threads = 1; threads <= 2; threads++) {
            if (parts == 1 && threads == 1)
                continue;
            uint64_t h = run_devices(parts, threads, &n);
            ck_assert_msg(n == n0 && h == h0,
                          "%u partitions, %u threads: %zu spikes, hash %016llx; "
                          "1 partition, 1 thread: %zu spikes, hash %016llx",
                          parts, threads, n, (unsigned long long)h, n0, (unsigned long long)h0);
        }
}
END_TEST

Suite *devices_suite(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("currents");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_step_current);
    tcase_add_test(tc, test_dc);
    tcase_add_test(tc, test_sinusoidal);
    tcase_add_test(tc, test_ou_statistics);
    tcase_add_test(tc, test_inhomogeneous_poisson);
    tcase_add_test(tc, test_dc_drives_spikes);
    tcase_add_test(tc, test_devices_determinism);
    suite_add_tcase(s, tc);
    return s;
}
