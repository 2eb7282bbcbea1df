/* lif_psc_delta (models/lif_psc_delta.c) against its closed-form solution,
 * on both integration paths: GSL rk8pd at 1e-12 and the sweep stepper
 * (the exact propagator), each on 1 and 2 partitions.
 *
 * - Subthreshold: from V0 under a constant current, with jumps w_k at
 *   off-grid times t_k, V(t) = V_inf + (V0 - V_inf) e^(-t/tau)
 *   + sum_{t_k <= t} w_k e^(-(t - t_k)/tau). Sampled at zero-weight stops.
 *   Sweep: rounding only (the fast exp is within 2 ulp; a few hundred
 *   steps), asserted to 1e-10 mV. rk8pd at 1e-12: its local error control
 *   gives ~1e-11 mV over these 30 ms stretches, asserted to 1e-8 mV.
 * - Jumps across threshold fire at the input's time exactly, reset to
 *   V_reset, and inputs while refractory are dropped (V stays V_reset).
 * - Suprathreshold current: regular firing with period
 *   t_ref + tau ln((V_inf - V_reset)/(V_inf - V_th)). Sweep: crossings
 *   by Newton against the propagator to 1e-12 ms, asserted to 1e-9 ms
 *   over 40 spikes (the times accumulate); rk8pd the same at 1e-8 ms.
 * - Simultaneous inputs on the sweep path are summed before the threshold
 *   test. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/sim.h"
#include "apical/spec.h"
#include "harness.h"

static const char *const PATHS[] = {"{stepper: rk8pd, abs_tol: 1e-12, rel_tol: 1e-12}",
                                    "{stepper: sweep}"};
static const double V_TOL[] = {1e-8, 1e-10}, T_TOL[] = {1e-8, 1e-9};

/* The state of neuron 0 at t, where a zero-weight input stops it. A
 * neuron integrated to every window end is at t after running to t; a
 * lazy one sleeps at its last input, delivered just after (as in
 * tests/check_models.c). The GSL path keeps time as segment start +
 * offset, so its neuron time may differ from t in the last bits. */
static double v_at(apical_sim *sim, double t)
{
    test_run_to(sim, t);
    if (fabs(apical_sim_neuron_time(sim, 0, 0) - t) > 1e-12)
        test_run_to(sim, t + 1e-9);
    ck_assert_msg(fabs(apical_sim_neuron_time(sim, 0, 0) - t) <= 1e-12, "neuron at %.17g, not %.17g",
                  apical_sim_neuron_time(sim, 0, 0), t);
    return apical_sim_state(sim, 0, 0)[0];
}

enum { N_JUMP = 40, N_STOP = 25 };

START_TEST(test_delta_subthreshold_analytic)
{
    /* E_L = -70 mV, I_e = 150 pA, tau 20 ms, C 250 pF: V_inf = -58 mV.
     * Threshold out of reach. Jumps of +-(0.3..3.3) mV at off-grid times,
     * a 0.37 ms delay from a silent parrot sets the windows. */
    const double tau = 20.0, vinf = -70.0 + 150.0 * tau / 250.0, v0 = -66.0;
    double tj[N_JUMP], wj[N_JUMP], ts[N_STOP];
    char jumps[N_JUMP][160], stops[N_STOP * 24] = "[";
    for (int k = 0; k < N_JUMP; k++) {
        tj[k] = 0.731 + 2.9137 * k + 0.4 * sin(k);
        wj[k] = (k % 3 == 2 ? -1.0 : 1.0) * (0.3 + 0.075 * (k % 41));
        snprintf(jumps[k], sizeof jumps[k],
                 "  - {type: spike_times, target: n, receptor: %s, weight: %.17g mV, times: [%.17g ms]}\n",
                 k % 2 ? "inh" : "exc", wj[k], tj[k]);
    }
    for (int s = 0; s < N_STOP; s++) {
        ts[s] = 1.1 + 4.71 * s;
        size_t u = strlen(stops);
        snprintf(stops + u, sizeof stops - u, "%s%.17g ms", s ? ", " : "", ts[s]);
    }
    strcat(stops, "]");
    for (int path = 0; path < 2; path++)
        for (unsigned parts = 1; parts <= 2; parts++) {
            char *yaml = malloc(16384);
            ck_assert(yaml);
            int w = snprintf(yaml, 16384,
                             "simulation: {duration: 130 ms, partitions: %u, solver: %s}\n"
                             "populations:\n"
                             "  n: {size: 2, model: lif_psc_delta, parameters: {E_L: -70 mV,\n"
                             "      V_th: 100 mV, V_reset: -70 mV, tau_m: 20 ms, C_m: 250 pF,\n"
                             "      I_e: 150 pA}, initial: {V_m: %g mV}}\n"
                             "  clk: {size: 1, model: parrot}\n"
                             "projections:\n"
                             "  - {source: clk, target: n, connectivity: all_to_all, receptor: exc,\n"
                             "     weight: 0 mV, delay: 0.37 ms}\n"
                             "inputs:\n"
                             "  - {type: spike_times, target: n, receptor: exc, weight: 0 mV, times: %s}\n",
                             parts, PATHS[path], v0, stops);
            for (int k = 0; k < N_JUMP; k++)
                w += snprintf(yaml + w, 16384 - (size_t)w, "%s", jumps[k]);
            apical_net_spec *spec = test_load(yaml);
            apical_sim *sim = test_build(spec, 1, NULL);
            double worst = 0.0;
            for (int s = 0; s < N_STOP; s++) {
                double v = vinf + (v0 - vinf) * exp(-ts[s] / tau);
                for (int k = 0; k < N_JUMP && tj[k] <= ts[s]; k++)
                    v += wj[k] * exp(-(ts[s] - tj[k]) / tau);
                worst = fmax(worst, fabs(v_at(sim, ts[s]) - v));
            }
            if (test_verbose())
                printf("lif_psc_delta %s, %u partition(s): max |V - analytic| %.3g mV\n",
                       PATHS[path], parts, worst);
            ck_assert_msg(worst <= V_TOL[path], "%s: V off the closed form by %g mV",
                          PATHS[path], worst);
            apical_sim_free(sim);
            apical_spec_free(spec);
            free(yaml);
        }
}
END_TEST

START_TEST(test_delta_jump_fires)
{
    /* V rests at E_L = -70 mV, V_th = -55 mV, t_ref = 2 ms, tau_m = 20 ms:
     *  10 ms    +20 mV: -50 mV, fires at 10 ms; reset to -70 mV
     *  11 ms    +20 mV: refractory, dropped (V = V_reset at 11.5 ms)
     *  20 ms    +10 mV: -60 mV, no spike
     *  20.5 ms   +6 mV: -70 + 10 e^(-0.5/20) + 6 = -54.25 mV, fires at 20.5 ms
     *  30 ms  +14.9 mV, 30.25 ms -1 mV, 30.5 ms +1.2 mV: -55.04.. mV, no spike
     *  (just below threshold after the decay) */
    const char *yaml =
        "simulation: {duration: 40 ms, partitions: %u, solver: %s}\n"
        "populations:\n"
        "  n: {size: 2, model: lif_psc_delta, parameters: {E_L: -70 mV, V_th: -55 mV,\n"
        "      V_reset: -70 mV, t_ref: 2 ms, tau_m: 20 ms}, initial: {V_m: -70 mV}}\n"
        "inputs:\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 20 mV, times: [10 ms, 11 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 0 mV, times: [11.5 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 10 mV, times: [20 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 6 mV, times: [20.5 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 14.9 mV, times: [30 ms]}\n"
        "  - {type: spike_times, target: n, receptor: inh, weight: -1 mV, times: [30.25 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 1.2 mV, times: [30.5 ms]}\n";
    for (int path = 0; path < 2; path++)
        for (unsigned parts = 1; parts <= 2; parts++) {
            char buf[2048];
            snprintf(buf, sizeof buf, yaml, parts, PATHS[path]);
            apical_net_spec *spec = test_load(buf);
            spikes s = {0};
            apical_sim *sim = test_build(spec, 1, &s);
            ck_assert_double_eq(v_at(sim, 11.5), -70.0);
            test_run_to(sim, 40.0);
            const double want[] = {10.0, 10.0, 20.5, 20.5};
            ck_assert_uint_eq(s.n, 4);
            for (size_t k = 0; k < s.n; k++) {
                ck_assert_double_eq(s.t[k], want[k]);
                ck_assert_uint_eq(s.node[k], k % 2);
            }
            spikes_free(&s);
            apical_sim_free(sim);
            apical_spec_free(spec);
        }
}
END_TEST

START_TEST(test_delta_regular_firing)
{
    /* E_L = 0, V_th = 20 mV, V_reset = 10 mV, tau 20 ms, t_ref 2 ms (Brunel's
     * neuron), I_e = 300 pA through C_m = 250 pF: V_inf = 24 mV. From
     * V0 = 10 mV the first spike is at tau ln(14/4), then every
     * t_ref + tau ln(14/4). */
    const char *yaml =
        "simulation: {duration: 1100 ms, partitions: %u, solver: %s}\n"
        "populations:\n"
        "  n: {size: 3, model: lif_psc_delta, parameters: {E_L: 0 mV, V_th: 20 mV,\n"
        "      V_reset: 10 mV, t_ref: 2 ms, tau_m: 20 ms, C_m: 250 pF, I_e: 300 pA},\n"
        "      initial: {V_m: 10 mV}}\n"
        "  clk: {size: 1, model: parrot}\n"
        "projections:\n"
        "  - {source: clk, target: n, connectivity: all_to_all, receptor: exc,\n"
        "     weight: 0 mV, delay: 1.5 ms}\n";
    const double first = 20.0 * log(14.0 / 4.0), period = 2.0 + first;
    for (int path = 0; path < 2; path++)
        for (unsigned parts = 1; parts <= 2; parts++) {
            char buf[2048];
            snprintf(buf, sizeof buf, yaml, parts, PATHS[path]);
            apical_net_spec *spec = test_load(buf);
            spikes s = {0};
            apical_sim *sim = test_build(spec, 1, &s);
            test_run_to(sim, 1100.0);
            ck_assert_uint_eq(s.n, 3 * 40);
            double worst = 0.0;
            for (size_t k = 0; k < s.n; k++)
                worst = fmax(worst, fabs(s.t[k] - (first + (double)(k / 3) * period)));
            if (test_verbose())
                printf("lif_psc_delta %s, %u partition(s): 40 spikes, max |t - analytic| %.3g ms\n",
                       PATHS[path], parts, worst);
            ck_assert_msg(worst <= T_TOL[path], "%s: spike times off by %g ms", PATHS[path], worst);
            spikes_free(&s);
            apical_sim_free(sim);
            apical_spec_free(spec);
        }
}
END_TEST

/* Regression (Brunel's network locked at 333 Hz, seed 2 of
 * networks/brunel2000_small.yaml): on the sweep path, inputs that reach a
 * neuron at exactly the same time are all applied before the threshold
 * test, as NEST's precise models sum simultaneous events. Delivery order
 * puts lower source ids first (here the excitatory input); tested one by
 * one, +20 mV would fire the neuron and the simultaneous -10 mV would be
 * dropped as refractory. Summed: -70 + 20 - 10 = -60 mV, no spike; then
 * +6 mV and +6 mV together at 20 ms: -70 + 10 e^(-10/20) + 12 = -51.9 mV,
 * one spike at 20 ms. (The GSL path applies simultaneous inputs one by one:
 * docs/models/lif.md.) */
START_TEST(test_delta_simultaneous_summed)
{
    const char *yaml =
        "simulation: {duration: 40 ms, partitions: %u, solver: {stepper: sweep}}\n"
        "populations:\n"
        "  n: {size: 2, model: lif_psc_delta, parameters: {E_L: -70 mV, V_th: -55 mV,\n"
        "      V_reset: -70 mV, t_ref: 2 ms, tau_m: 20 ms}, initial: {V_m: -70 mV}}\n"
        "inputs:\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 20 mV, times: [10 ms]}\n"
        "  - {type: spike_times, target: n, receptor: inh, weight: -10 mV, times: [10 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 6 mV, times: [20 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 6 mV, times: [20 ms]}\n"
        "  - {type: spike_times, target: n, receptor: exc, weight: 0 mV, times: [10.5 ms]}\n";
    for (unsigned parts = 1; parts <= 2; parts++) {
        char buf[2048];
        snprintf(buf, sizeof buf, yaml, parts);
        apical_net_spec *spec = test_load(buf);
        spikes s = {0};
        apical_sim *sim = test_build(spec, 1, &s);
        const double v = v_at(sim, 10.5);
        ck_assert_msg(fabs(v - (-70.0 + 10.0 * exp(-0.5 / 20.0))) < 1e-12, "V = %.15g", v);
        test_run_to(sim, 40.0);
        ck_assert_uint_eq(s.n, 2);
        ck_assert_double_eq(s.t[0], 20.0);
        ck_assert_double_eq(s.t[1], 20.0);
        spikes_free(&s);
        apical_sim_free(sim);
        apical_spec_free(spec);
    }
}
END_TEST

Suite *delta_suite(void)
{
    Suite *s = suite_create("delta");
    TCase *tc = tcase_create("lif_psc_delta");
    tcase_add_test(tc, test_delta_subthreshold_analytic);
    tcase_add_test(tc, test_delta_jump_fires);
    tcase_add_test(tc, test_delta_regular_firing);
    tcase_add_test(tc, test_delta_simultaneous_summed);
    suite_add_tcase(s, tc);
    return s;
}
